namespace DiffusionEngine.Imaging;

/// <summary>Masks as [height·width] floats in [0, 1] (1 = repaint) and as opaque grey images, the form resizing and encoding take.</summary>
public static class GrayMask
{
    /// <summary>The mask <paramref name="image"/> marks under <paramref name="convention"/>: 1 where it repaints, else 0.</summary>
    public static float[] Read(RgbaImage image, Pipelines.MaskConvention convention)
    {
        var mask = new float[image.Width * image.Height];
        for (var p = 0; p < mask.Length; p++) mask[p] = Pipelines.MaskConventions.Repaints(image.Pixels.AsSpan(4 * p, 4), convention) ? 1f : 0f;
        return mask;
    }

    /// <summary>The red channel as [0, 1]: the inverse of <see cref="ToImage"/>.</summary>
    public static float[] FromImage(RgbaImage image)
    {
        var mask = new float[image.Width * image.Height];
        for (var p = 0; p < mask.Length; p++) mask[p] = image.Pixels[4 * p] / 255f;
        return mask;
    }

    /// <summary>An opaque grey image of the mask, each value rounded to 8 bits (white repaints).</summary>
    public static RgbaImage ToImage(ReadOnlySpan<float> mask, int width, int height)
    {
        if (mask.Length != width * height) throw new ArgumentException($"mask must hold {width}x{height} values but holds {mask.Length}", nameof(mask));
        var pixels = new byte[mask.Length * 4];
        for (var p = 0; p < mask.Length; p++)
        {
            var value = ToByte(mask[p]);
            pixels[4 * p] = pixels[4 * p + 1] = pixels[4 * p + 2] = value;
            pixels[4 * p + 3] = 255;
        }
        return new RgbaImage(width, height, pixels);
    }

    /// <summary>1 − every value, in place (A1111's inpainting_mask_invert).</summary>
    public static void Invert(Span<float> mask)
    {
        for (var p = 0; p < mask.Length; p++) mask[p] = 1f - mask[p];
    }

    public static byte ToByte(float value) => (byte)Math.Clamp(MathF.Round(value * 255f), 0f, 255f);
}
