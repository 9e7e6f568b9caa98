using SkiaSharp;

namespace DiffusionEngine.Imaging;

/// <summary>
/// A decoded image as the engine takes it in: interleaved 8-bit RGBA, row-major, straight (not premultiplied) alpha,
/// <c>Width·Height·4</c> bytes. Init images use only the RGB channels (the alpha is dropped, RGB taken as stored);
/// masks use either their brightness or their alpha (<see cref="Pipelines.MaskConvention"/>). Immutable by contract:
/// the engine never writes <see cref="Pixels"/>, and callers must not change them once the image is in a request.
/// </summary>
public sealed class RgbaImage
{
    private int _transparency = -1; // -1 unknown, 0 none, 1 some fully transparent pixel

    /// <summary>Wraps <paramref name="pixels"/> (not copied).</summary>
    /// <exception cref="ArgumentException">A dimension is not positive or the buffer length is not width·height·4.</exception>
    public RgbaImage(int width, int height, byte[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (width <= 0 || height <= 0) throw new ArgumentException($"image size must be positive but was {width}x{height}", nameof(width));
        if (pixels.Length != checked((long)width * height * 4))
        {
            throw new ArgumentException($"pixels must hold {width}x{height}x4 = {(long)width * height * 4} bytes but holds {pixels.Length}", nameof(pixels));
        }
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>RGBA bytes, row-major.</summary>
    public byte[] Pixels { get; }

    /// <summary>An opaque image from interleaved RGB bytes (<c>width·height·3</c>), e.g. a <see cref="Pipelines.GeneratedImage"/>'s.</summary>
    public static RgbaImage FromRgb(int width, int height, ReadOnlySpan<byte> rgb)
    {
        if (rgb.Length != (long)width * height * 3)
        {
            throw new ArgumentException($"rgb must hold {width}x{height}x3 = {(long)width * height * 3} bytes but holds {rgb.Length}", nameof(rgb));
        }
        var pixels = new byte[width * height * 4];
        for (int p = 0, s = 0; s < rgb.Length; p += 4, s += 3)
        {
            pixels[p] = rgb[s];
            pixels[p + 1] = rgb[s + 1];
            pixels[p + 2] = rgb[s + 2];
            pixels[p + 3] = 255;
        }
        return new RgbaImage(width, height, pixels);
    }

    /// <summary>Whether any pixel is fully transparent (alpha 0): what OpenAI's edit convention reads as "repaint here".</summary>
    public bool HasFullyTransparentPixels
    {
        get
        {
            if (_transparency < 0)
            {
                var found = 0;
                for (var i = 3; i < Pixels.Length; i += 4)
                {
                    if (Pixels[i] == 0)
                    {
                        found = 1;
                        break;
                    }
                }
                _transparency = found;
            }
            return _transparency == 1;
        }
    }

    /// <summary>
    /// This image resampled to <paramref name="width"/>×<paramref name="height"/> (Mitchell cubic filter on straight
    /// alpha, SkiaSharp; diffusers uses PIL's Lanczos), or this same instance when the size already matches, so an image
    /// sent at the output size keeps its exact pixels.
    /// </summary>
    public unsafe RgbaImage Resize(int width, int height)
    {
        if (width == Width && height == Height) return this;
        if (width <= 0 || height <= 0) throw new ArgumentException($"image size must be positive but was {width}x{height}", nameof(width));
        var resized = new byte[width * height * 4];
        fixed (byte* source = Pixels)
        fixed (byte* destination = resized)
        {
            using var from = new SKPixmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Unpremul), (IntPtr)source, Width * 4);
            using var to = new SKPixmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul), (IntPtr)destination, width * 4);
            if (!from.ScalePixels(to, new SKSamplingOptions(SKCubicResampler.Mitchell)))
            {
                throw new InvalidOperationException($"SkiaSharp could not resize a {Width}x{Height} image to {width}x{height}");
            }
        }
        return new RgbaImage(width, height, resized);
    }
}
