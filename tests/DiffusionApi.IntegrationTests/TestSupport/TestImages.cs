using SkiaSharp;

namespace DiffusionApi.IntegrationTests.TestSupport;

/// <summary>Small encoded images made in the test (init images, masks), straight alpha, deterministic.</summary>
public static class TestImages
{
    /// <summary>A PNG whose pixel (x, y) is <paramref name="pixel"/>(x, y) as RGBA.</summary>
    public static byte[] Png(int width, int height, Func<int, int, (byte R, byte G, byte B, byte A)> pixel)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var bytes = new byte[width * height * 4];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var (r, g, b, a) = pixel(x, y);
                var at = (y * width + x) * 4;
                (bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]) = (r, g, b, a);
            }
        }
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, bitmap.GetPixels(), bytes.Length);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>An opaque gradient: distinct pixels, so a kept or changed pixel shows.</summary>
    public static byte[] Gradient(int width = 64, int height = 64) =>
        Png(width, height, (x, y) => ((byte)(x * 255 / Math.Max(1, width - 1)), (byte)(y * 255 / Math.Max(1, height - 1)), 96, 255));

    /// <summary>Opaque noise from a fixed seed: it does not compress, so its size in bytes is about 3·width·height.</summary>
    public static byte[] Noise(int width, int height)
    {
        var random = new Random(7);
        return Png(width, height, (_, _) => ((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256), 255));
    }

    /// <summary>A luminance mask: white (repaint) where <paramref name="repaint"/>(x, y), black (keep) elsewhere.</summary>
    public static byte[] LuminanceMask(int width, int height, Func<int, int, bool> repaint) =>
        Png(width, height, (x, y) => repaint(x, y) ? ((byte)255, (byte)255, (byte)255, (byte)255) : ((byte)0, (byte)0, (byte)0, (byte)255));

    /// <summary>OpenAI's mask: fully transparent (edit) where <paramref name="edit"/>(x, y), opaque black elsewhere.</summary>
    public static byte[] TransparencyMask(int width, int height, Func<int, int, bool> edit) =>
        Png(width, height, (x, y) => edit(x, y) ? ((byte)0, (byte)0, (byte)0, (byte)0) : ((byte)0, (byte)0, (byte)0, (byte)255));

    public static string DataUrl(byte[] png) => "data:image/png;base64," + Convert.ToBase64String(png);

    /// <summary>The RGBA pixel at (x, y) of decoded pixels of an image <paramref name="width"/> wide.</summary>
    public static (byte R, byte G, byte B, byte A) PixelAt(byte[] rgba, int width, int x, int y)
    {
        var at = (y * width + x) * 4;
        return (rgba[at], rgba[at + 1], rgba[at + 2], rgba[at + 3]);
    }
}
