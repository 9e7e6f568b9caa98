using DiffusionApi.Model;
using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;

namespace DiffusionApi.Apis.Sdapi;

/// <summary>
/// A1111's inpainting options that change the images before the engine sees them (processing.py,
/// StableDiffusionProcessingImg2Img.init), applied to a validated spec: inpainting_mask_invert 1 inverts the mask;
/// inpaint_full_res ("only masked") blurs the mask at the init image's size, crops the box around it grown by
/// inpaint_full_res_padding and widened to width:height (<see cref="CropRegion"/>), and resizes that crop of the image
/// and mask to width×height (resize and fill), leaving an <see cref="InpaintOverlay"/> that pastes the result back;
/// inpainting_fill 0 ("fill") replaces the masked area of the image the model starts from with the colours around it
/// (<see cref="MaskFill"/>); 2 and 3 go to the engine as <see cref="InpaintStart"/>. The denoising itself is the engine's, unchanged.
/// </summary>
internal static class SdapiInpainting
{
    /// <summary>The options as read from the body.</summary>
    public sealed record Options(bool Invert, bool Fill, InpaintStart Start, bool OnlyMasked, int Padding);

    /// <returns>The spec to run, or null after adding an error (the mask, once inverted, keeps every pixel).</returns>
    public static GenerationSpec? Apply(GenerationSpec spec, Options options, SdapiErrors errors)
    {
        if (spec.InitImage is null || spec.Mask is null) return spec;
        spec = spec with { InpaintStart = options.Start };
        if (!(options.Invert || options.Fill || options.OnlyMasked)) return spec;
        var init = spec.InitImage.Decode();
        var maskImage = spec.Mask.Decode();
        var mask = GrayMask.Read(maskImage, spec.MaskConvention);
        if (options.Invert)
        {
            GrayMask.Invert(mask);
            if (!mask.Any(value => value > 0))
            {
                errors.Add("inpainting_mask_invert", "the inverted mask repaints no pixel (the mask is white everywhere); send inpainting_mask_invert 0 or another mask");
                return null;
            }
        }
        return options.OnlyMasked ? OnlyMasked(spec, options, init, mask) : WholePicture(spec, options, init, maskImage, mask);
    }

    // "Whole picture": the engine resizes, blurs and pastes back as usual; fill needs the mask as the engine will see it.
    private static GenerationSpec WholePicture(GenerationSpec spec, Options options, RgbaImage init, RgbaImage maskImage, float[] mask)
    {
        if (options.Invert)
        {
            maskImage = GrayMask.ToImage(mask, maskImage.Width, maskImage.Height);
            spec = spec with { Mask = Png(maskImage) };
        }
        if (!options.Fill) return spec;
        var (width, height) = (spec.Width, spec.Height);
        var atSize = GrayMask.Read(maskImage.Resize(width, height), MaskConvention.Luminance);
        GaussianBlur.Apply(atSize, width, height, spec.MaskBlur);
        var filled = MaskFill.Fill(init.Resize(width, height), atSize);
        return spec with { InitImage = Png(filled), MaskConvention = MaskConvention.Luminance };
    }

    private static GenerationSpec OnlyMasked(GenerationSpec spec, Options options, RgbaImage init, float[] mask)
    {
        var (imageWidth, imageHeight) = (init.Width, init.Height);
        GaussianBlur.Apply(mask, imageWidth, imageHeight, spec.MaskBlur);
        var blurred = GrayMask.ToImage(mask, imageWidth, imageHeight);
        // The mask marks a pixel (validated; inverted: checked above), and a blur only spreads it.
        var region = CropRegion.AroundMask(mask, imageWidth, imageHeight, options.Padding)!.Value
            .ExpandToRatio(spec.Width, spec.Height, imageWidth, imageHeight);
        var cropMask = ResizeModes.ResizeAndFill(ResizeModes.Crop(blurred, region), spec.Width, spec.Height);
        var cropImage = ResizeModes.ResizeAndFill(ResizeModes.Crop(init, region), spec.Width, spec.Height);
        if (options.Fill) cropImage = MaskFill.Fill(cropImage, GrayMask.FromImage(cropMask));
        return spec with
        {
            InitImage = Png(cropImage),
            // Blurred already, at the original's size, as A1111 does; the engine only thresholds it.
            Mask = Png(cropMask),
            MaskConvention = MaskConvention.Luminance,
            MaskBlur = 0,
            Overlay = new InpaintOverlay(spec.InitImage!, Png(blurred), region),
        };
    }

    private static EncodedImage Png(RgbaImage image)
    {
        var rgb = new byte[image.Width * image.Height * 3];
        for (int p = 0, s = 0; s < rgb.Length; p += 4, s += 3)
        {
            rgb[s] = image.Pixels[p];
            rgb[s + 1] = image.Pixels[p + 1];
            rgb[s + 2] = image.Pixels[p + 2];
        }
        return new EncodedImage(ImageEncoder.EncodeRgb(rgb, image.Width, image.Height, ImageFormat.Png), RgbaImage.FromRgb(image.Width, image.Height, rgb));
    }
}
