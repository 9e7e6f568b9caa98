using DiffusionEngine.Imaging;

namespace DiffusionEngine.Pipelines.Steps;

/// <summary>
/// The mask-preparation step of inpainting, per image at the output size: the pixel mask (1 = repaint) read by the
/// request's <see cref="MaskConvention"/>, optionally Gaussian-blurred (A1111's mask_blur), binarized at 0.5 for the
/// model (diffusers' <c>do_binarize</c>), and downsampled to latent size by nearest neighbour (diffusers'
/// <c>interpolate(mask, size=(h/8, w/8))</c>: latent (y, x) takes pixel (8y, 8x)). The blurred mask, before
/// binarizing, is the paste-back alpha.
/// </summary>
internal static class InpaintMask
{
    /// <param name="image">The init image at the output size.</param>
    /// <param name="mask">The mask at the output size, or null for the transparency convention on the image itself.</param>
    /// <param name="convention">How the mask marks the area to repaint.</param>
    /// <param name="blur">Gaussian standard deviation in pixels; 0 for none.</param>
    /// <param name="modelMask">Receives the binary pixel mask [H·W] the model and the masked image use.</param>
    /// <param name="pasteBackAlpha">Receives the blurred mask [H·W] in [0, 1], the weight of the generated pixel in the paste-back.</param>
    /// <param name="latentMask">Receives the binary latent mask [H/8·W/8].</param>
    /// <exception cref="ArgumentException">The mask selects no pixel to repaint.</exception>
    public static void Prepare(RgbaImage image, RgbaImage? mask, MaskConvention convention, int blur,
        Span<float> modelMask, Span<float> pasteBackAlpha, Span<float> latentMask)
    {
        var width = image.Width;
        var height = image.Height;
        var source = (mask ?? image).Pixels;
        for (var p = 0; p < modelMask.Length; p++) pasteBackAlpha[p] = MaskConventions.Repaints(source.AsSpan(4 * p, 4), convention) ? 1f : 0f;
        GaussianBlur.Apply(pasteBackAlpha, width, height, blur);

        var any = false;
        for (var p = 0; p < modelMask.Length; p++)
        {
            modelMask[p] = pasteBackAlpha[p] >= 0.5f ? 1f : 0f;
            any |= modelMask[p] != 0f;
        }
        if (!any) throw new ArgumentException("the mask selects no pixel to repaint (every pixel is kept)", nameof(mask));

        var latentWidth = width / 8;
        for (var y = 0; y < height / 8; y++)
        {
            for (var x = 0; x < latentWidth; x++) latentMask[y * latentWidth + x] = modelMask[8 * y * width + 8 * x];
        }
    }
}
