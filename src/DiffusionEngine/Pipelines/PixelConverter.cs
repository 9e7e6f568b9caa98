namespace DiffusionEngine.Pipelines;

/// <summary>Step 7: the VAE's planar [3, H, W] output in about [-1, 1] → interleaved 8-bit RGB.</summary>
internal static class PixelConverter
{
    /// <summary>
    /// pixel = round(clamp(x / 2 + 0.5, 0, 1) · 255), as diffusers' <c>VaeImageProcessor</c> (denormalize, then
    /// <c>(image * 255).round()</c>, which rounds half to even). Returns a new array the caller owns.
    /// </summary>
    public static byte[] ToRgb(ReadOnlySpan<float> planar, int width, int height)
    {
        var plane = width * height;
        var red = planar[..plane];
        var green = planar.Slice(plane, plane);
        var blue = planar.Slice(2 * plane, plane);
        var rgb = new byte[plane * 3];
        for (var p = 0; p < plane; p++)
        {
            rgb[3 * p] = ToByte(red[p]);
            rgb[3 * p + 1] = ToByte(green[p]);
            rgb[3 * p + 2] = ToByte(blue[p]);
        }
        return rgb;
    }

    private static byte ToByte(float x)
    {
        var unit = Math.Clamp(x / 2f + 0.5f, 0f, 1f);
        if (float.IsNaN(unit)) return 0;
        return (byte)MathF.Round(unit * 255f, MidpointRounding.ToEven);
    }
}
