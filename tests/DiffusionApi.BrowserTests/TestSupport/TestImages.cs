using SkiaSharp;

namespace DiffusionApi.BrowserTests.TestSupport;

/// <summary>Small PNG files to upload as init images.</summary>
public static class TestImages
{
    /// <summary>An opaque PNG whose every pixel differs from its neighbours (red grows to the right, green downwards).</summary>
    public static byte[] Gradient(int width, int height)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)(x * 255 / (width - 1)), (byte)(y * 255 / (height - 1)), 96));
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
