using DiffusionEngine.Imaging;

namespace DiffusionEngine.Tests.Pipelines;

/// <summary>Init images and masks for the image-to-image and inpainting tests, made in code (deterministic).</summary>
internal static class TestImages
{
    /// <summary>An opaque image with smooth colour gradients and a pattern that depends on <paramref name="variant"/>.</summary>
    public static RgbaImage Gradient(int width, int height, int variant = 0)
    {
        var pixels = new byte[width * height * 4];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var p = 4 * (y * width + x);
                pixels[p] = (byte)(255 * x / Math.Max(1, width - 1));
                pixels[p + 1] = (byte)(255 * y / Math.Max(1, height - 1));
                pixels[p + 2] = (byte)((x * 7 + y * 13 + variant * 50) % 256);
                pixels[p + 3] = 255;
            }
        }
        return new RgbaImage(width, height, pixels);
    }

    /// <summary>A mask in the luminance convention: white (repaint) inside the rectangle, black (keep) elsewhere.</summary>
    public static RgbaImage RectangleMask(int width, int height, int left, int top, int right, int bottom)
    {
        var pixels = new byte[width * height * 4];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var inside = x >= left && x < right && y >= top && y < bottom;
                var p = 4 * (y * width + x);
                pixels[p] = pixels[p + 1] = pixels[p + 2] = inside ? (byte)255 : (byte)0;
                pixels[p + 3] = 255;
            }
        }
        return new RgbaImage(width, height, pixels);
    }

    /// <summary><paramref name="image"/> with alpha 0 inside the rectangle (OpenAI's "edit here") and 255 elsewhere.</summary>
    public static RgbaImage WithTransparentRectangle(RgbaImage image, int left, int top, int right, int bottom)
    {
        var pixels = (byte[])image.Pixels.Clone();
        for (var y = top; y < bottom; y++)
        {
            for (var x = left; x < right; x++) pixels[4 * (y * image.Width + x) + 3] = 0;
        }
        return new RgbaImage(image.Width, image.Height, pixels);
    }

    /// <summary>The largest difference between the RGB of <paramref name="rgb"/> and <paramref name="image"/> over the pixels <paramref name="where"/> selects.</summary>
    public static int MaxDifference(byte[] rgb, RgbaImage image, Func<int, int, bool> where)
    {
        var max = 0;
        for (var y = 0; y < image.Height; y++)
        {
            for (var x = 0; x < image.Width; x++)
            {
                if (!where(x, y)) continue;
                var p = y * image.Width + x;
                for (var c = 0; c < 3; c++) max = Math.Max(max, Math.Abs(rgb[3 * p + c] - image.Pixels[4 * p + c]));
            }
        }
        return max;
    }

    /// <summary>The RGB bytes of <paramref name="image"/> (alpha dropped), as a <see cref="DiffusionEngine.Pipelines.GeneratedImage"/> holds them.</summary>
    public static byte[] Rgb(RgbaImage image)
    {
        var rgb = new byte[image.Width * image.Height * 3];
        for (var p = 0; p < image.Width * image.Height; p++)
        {
            rgb[3 * p] = image.Pixels[4 * p];
            rgb[3 * p + 1] = image.Pixels[4 * p + 1];
            rgb[3 * p + 2] = image.Pixels[4 * p + 2];
        }
        return rgb;
    }
}
