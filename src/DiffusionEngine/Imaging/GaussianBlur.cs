namespace DiffusionEngine.Imaging;

/// <summary>A separable Gaussian blur of a single-channel float image (masks).</summary>
public static class GaussianBlur
{
    /// <summary>
    /// Blurs <paramref name="values"/> [height·width] in place with standard deviation <paramref name="sigma"/> pixels,
    /// the kernel truncated at 3σ (so a pixel farther than 3σ from every masked pixel stays exactly 0), edges extended.
    /// </summary>
    public static void Apply(Span<float> values, int width, int height, int sigma)
    {
        if (sigma <= 0) return;
        if (values.Length != width * height) throw new ArgumentException($"values must hold {width}x{height} values but holds {values.Length}", nameof(values));
        var radius = 3 * sigma;
        var kernel = new float[2 * radius + 1];
        var sum = 0.0;
        for (var i = -radius; i <= radius; i++) sum += Math.Exp(-(double)i * i / (2.0 * sigma * sigma));
        for (var i = -radius; i <= radius; i++) kernel[i + radius] = (float)(Math.Exp(-(double)i * i / (2.0 * sigma * sigma)) / sum);

        var scratch = new float[values.Length];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var total = 0f;
                for (var k = -radius; k <= radius; k++) total += kernel[k + radius] * values[y * width + Math.Clamp(x + k, 0, width - 1)];
                scratch[y * width + x] = total;
            }
        }
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var total = 0f;
                for (var k = -radius; k <= radius; k++) total += kernel[k + radius] * scratch[Math.Clamp(y + k, 0, height - 1) * width + x];
                values[y * width + x] = total;
            }
        }
    }
}
