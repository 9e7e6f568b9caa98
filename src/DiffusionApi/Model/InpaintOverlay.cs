using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;

namespace DiffusionApi.Model;

/// <summary>
/// What A1111's "only masked" inpainting (inpaint_full_res) does after generation: the image generated for the crop
/// <see cref="Region"/> is resized back into it and the <see cref="Original"/> init image composited over it through the
/// blurred <see cref="Mask"/> (<see cref="InpaintPaste"/>), so the answer has the init image's size. Kept encoded in
/// the job, as its init image and mask are.
/// </summary>
/// <param name="Original">The init image as sent.</param>
/// <param name="Mask">The blurred mask at the original's size, as an opaque grey PNG (white repaints).</param>
/// <param name="Region">The crop of the original that was generated.</param>
public sealed record InpaintOverlay(EncodedImage Original, EncodedImage Mask, CropRegion Region)
{
    /// <summary><paramref name="image"/> pasted into the original: a new image at the original's size, same request.</summary>
    public GeneratedImage Apply(GeneratedImage image)
    {
        var original = Original.Decode();
        var rgb = InpaintPaste.Apply(image.Rgb, image.Width, image.Height, original, GrayMask.FromImage(Mask.Decode()), Region);
        return image with { Width = original.Width, Height = original.Height, Rgb = rgb };
    }
}
