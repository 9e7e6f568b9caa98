using SkiaSharp;

namespace DiffusionEngine.Imaging;

/// <summary>How far two images of the same size are apart: PSNR over 8-bit RGB and the largest channel difference.</summary>
public sealed record ImageDifference(double PsnrDecibels, int MaxChannelDifference)
{
    /// <summary>
    /// Decodes both files (PNG/JPEG/WebP) and compares their RGB channels; identical images give +∞ dB.
    /// </summary>
    /// <exception cref="ArgumentException">A file cannot be decoded, or the sizes differ.</exception>
    public static ImageDifference Compare(string firstPath, string secondPath)
    {
        using var first = SKBitmap.Decode(firstPath) ?? throw new ArgumentException($"'{firstPath}' is not an image SkiaSharp can decode");
        using var second = SKBitmap.Decode(secondPath) ?? throw new ArgumentException($"'{secondPath}' is not an image SkiaSharp can decode");
        if (first.Width != second.Width || first.Height != second.Height)
            throw new ArgumentException($"the images differ in size: {first.Width}x{first.Height} and {second.Width}x{second.Height}");
        double squared = 0;
        var max = 0;
        for (var y = 0; y < first.Height; y++)
        {
            for (var x = 0; x < first.Width; x++)
            {
                var a = first.GetPixel(x, y);
                var b = second.GetPixel(x, y);
                foreach (var d in (ReadOnlySpan<int>)[a.Red - b.Red, a.Green - b.Green, a.Blue - b.Blue])
                {
                    squared += d * (double)d;
                    max = Math.Max(max, Math.Abs(d));
                }
            }
        }
        var mse = squared / (3.0 * first.Width * first.Height);
        return new ImageDifference(mse == 0 ? double.PositiveInfinity : 10 * Math.Log10(255.0 * 255.0 / mse), max);
    }
}
