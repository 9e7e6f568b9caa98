namespace DiffusionEngine.Imaging;

/// <summary>
/// The last step of A1111's "only masked" inpainting (<c>uncrop</c> + <c>apply_overlay</c>): the image generated at the
/// processing size is resized into its crop region of the original (crop and resize), and the original is composited
/// over the result with alpha 1 − mask, so every pixel the (blurred) mask keeps is the original's, exactly.
/// </summary>
public static class InpaintPaste
{
    /// <param name="generated">The generated image (RGB, <paramref name="generatedWidth"/>×<paramref name="generatedHeight"/>).</param>
    /// <param name="generatedWidth">The generated image's width.</param>
    /// <param name="generatedHeight">The generated image's height.</param>
    /// <param name="original">The init image at its own size.</param>
    /// <param name="mask">The blurred mask [original height·width] in [0, 1], 1 = repaint.</param>
    /// <param name="region">Where the generated image goes in the original.</param>
    /// <returns>Interleaved RGB at the original's size.</returns>
    public static byte[] Apply(ReadOnlySpan<byte> generated, int generatedWidth, int generatedHeight, RgbaImage original, ReadOnlySpan<float> mask, CropRegion region)
    {
        var (width, height) = (original.Width, original.Height);
        if (mask.Length != width * height) throw new ArgumentException($"mask must hold {width}x{height} values but holds {mask.Length}", nameof(mask));
        var placed = ResizeModes.CropAndResize(RgbaImage.FromRgb(generatedWidth, generatedHeight, generated), region.Width, region.Height);
        var rgb = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var p = y * width + x;
                var inside = x >= region.X1 && x < region.X2 && y >= region.Y1 && y < region.Y2;
                // Outside the region A1111's base is transparent: the original shows through whatever the mask says.
                var keep = inside ? 255 - GrayMask.ToByte(mask[p]) : 255;
                var from = inside ? ((y - region.Y1) * region.Width + x - region.X1) * 4 : 0;
                for (var c = 0; c < 3; c++)
                {
                    var kept = original.Pixels[4 * p + c];
                    rgb[3 * p + c] = keep == 255 ? kept : (byte)((kept * keep + placed.Pixels[from + c] * (255 - keep) + 127) / 255);
                }
            }
        }
        return rgb;
    }
}
