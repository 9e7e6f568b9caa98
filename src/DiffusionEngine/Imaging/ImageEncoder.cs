using System.Buffers;
using System.Runtime.Intrinsics;
using DiffusionEngine.Pipelines;
using SkiaSharp;

namespace DiffusionEngine.Imaging;

/// <summary>Encodes a <see cref="GeneratedImage"/> (8-bit RGB) as PNG, JPEG or WebP with SkiaSharp.</summary>
public static class ImageEncoder
{
    /// <summary>JPEG/WebP quality when the caller names none.</summary>
    public const int DefaultQuality = 90;

    /// <summary>
    /// Encodes <paramref name="image"/> in <paramref name="format"/>. For PNG, <paramref name="parameters"/> (usually
    /// <see cref="InfoText.Format"/>) is stored in a text chunk named "parameters" after IHDR, where A1111 and other
    /// tools read it; JPEG and WebP carry no parameters (SkiaSharp writes no EXIF).
    /// </summary>
    /// <param name="image">The image; its <see cref="GeneratedImage.Rgb"/> buffer is only read.</param>
    /// <param name="format">The encoding.</param>
    /// <param name="parameters">Text for the PNG "parameters" chunk; null writes none. Ignored for JPEG and WebP.</param>
    /// <param name="quality">JPEG/WebP quality 0–100 (ignored for lossless PNG).</param>
    /// <returns>The encoded file, owned by the caller.</returns>
    /// <exception cref="ArgumentException">The image size and buffer length disagree, or <paramref name="quality"/> is outside 0–100.</exception>
    /// <exception cref="InvalidOperationException">SkiaSharp failed to encode.</exception>
    public static byte[] Encode(GeneratedImage image, ImageFormat format, string? parameters = null, int quality = DefaultQuality)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Width <= 0 || image.Height <= 0)
            throw new ArgumentException($"image size must be positive but was {image.Width}x{image.Height}", nameof(image));
        var pixelCount = checked(image.Width * image.Height);
        if (image.Rgb.Length != pixelCount * 3)
            throw new ArgumentException(
                $"image.Rgb must hold {image.Width}x{image.Height}x3 = {pixelCount * 3} bytes but holds {image.Rgb.Length}", nameof(image));
        if (quality is < 0 or > 100)
            throw new ArgumentOutOfRangeException(nameof(quality), quality, "quality must be between 0 and 100");

        // Skia has no 3-byte pixel format: widen to opaque RGBA once, in a pooled buffer, and encode from it in place.
        var rgba = ArrayPool<byte>.Shared.Rent(pixelCount * 4);
        try
        {
            RgbToOpaqueRgba(image.Rgb, rgba.AsSpan(0, pixelCount * 4));
            var encoded = EncodeRgba(rgba, image.Width, image.Height, format, quality);
            return format == ImageFormat.Png && parameters is not null
                ? PngTextChunk.InsertAfterHeader(encoded, "parameters", parameters)
                : encoded;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rgba);
        }
    }

    /// <summary>Encodes interleaved RGB (<paramref name="width"/> × <paramref name="height"/> × 3 bytes) without metadata: a live preview.</summary>
    /// <exception cref="ArgumentException">The size and buffer length disagree.</exception>
    public static byte[] EncodeRgb(ReadOnlySpan<byte> rgb, int width, int height, ImageFormat format, int quality = DefaultQuality)
    {
        var pixelCount = checked(width * height);
        if (width <= 0 || height <= 0 || rgb.Length < pixelCount * 3)
            throw new ArgumentException($"rgb must hold {width}x{height}x3 bytes but holds {rgb.Length}", nameof(rgb));
        var rgba = ArrayPool<byte>.Shared.Rent(pixelCount * 4);
        try
        {
            RgbToOpaqueRgba(rgb[..(pixelCount * 3)], rgba.AsSpan(0, pixelCount * 4));
            return EncodeRgba(rgba, width, height, format, quality);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rgba);
        }
    }

    private static unsafe byte[] EncodeRgba(byte[] rgba, int width, int height, ImageFormat format, int quality)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        fixed (byte* pixels = rgba)
        {
            using var pixmap = new SKPixmap(info, (IntPtr)pixels, width * 4);
            using var data = format switch
            {
                ImageFormat.Png => pixmap.Encode(SKPngEncoderOptions.Default),
                ImageFormat.Jpeg => pixmap.Encode(new SKJpegEncoderOptions(quality, SKJpegEncoderDownsample.Downsample420, SKJpegEncoderAlphaOption.Ignore)),
                ImageFormat.Webp => pixmap.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossy, quality)),
                _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown image format"),
            };
            return data?.ToArray()
                ?? throw new InvalidOperationException($"SkiaSharp could not encode a {width}x{height} image as {format}");
        }
    }

    // Interleaved RGB -> RGBA with alpha 255. Four pixels per step with one byte shuffle where SIMD is available
    // (reads 16 input bytes, uses 12), then the remaining pixels one at a time.
    private static void RgbToOpaqueRgba(ReadOnlySpan<byte> rgb, Span<byte> rgba)
    {
        int s = 0, d = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            // Index 0xFF is out of range, so Shuffle writes 0 there; the OR then sets those alpha bytes to 255.
            var spread = Vector128.Create((byte)0, 1, 2, 0xFF, 3, 4, 5, 0xFF, 6, 7, 8, 0xFF, 9, 10, 11, 0xFF);
            var alpha = Vector128.Create(0xFF000000u).AsByte();
            for (; s + 16 <= rgb.Length; s += 12, d += 16)
                (Vector128.Shuffle(Vector128.Create(rgb.Slice(s, 16)), spread) | alpha).CopyTo(rgba.Slice(d, 16));
        }

        for (; d < rgba.Length; s += 3, d += 4)
        {
            rgba[d] = rgb[s];
            rgba[d + 1] = rgb[s + 1];
            rgba[d + 2] = rgb[s + 2];
            rgba[d + 3] = 0xFF;
        }
    }
}
