using SkiaSharp;

namespace DiffusionEngine.Imaging;

/// <summary>
/// Decodes PNG, JPEG and WebP bytes (init images and masks) into <see cref="RgbaImage"/>s with SkiaSharp. The size is
/// read from the header first and checked against a pixel limit before any pixel is decoded (decompression bombs).
/// JPEGs are turned upright by their EXIF orientation, as diffusers' <c>load_image</c> does.
/// </summary>
public static class ImageDecoder
{
    /// <summary>What the header of an encoded image says.</summary>
    public readonly record struct ImageHeader(ImageFormat Format, int Width, int Height);

    /// <summary>Reads the format and size from the header without decoding pixels.</summary>
    /// <exception cref="ArgumentException">The bytes are not a PNG, JPEG or WebP image.</exception>
    public static ImageHeader ReadHeader(ReadOnlySpan<byte> encoded)
    {
        using var data = SKData.CreateCopy(encoded);
        using var codec = OpenCodec(data);
        var (width, height) = UprightSize(codec);
        return new ImageHeader(FormatOf(codec), width, height);
    }

    /// <summary>Decodes <paramref name="encoded"/> into straight-alpha RGBA; opaque formats get alpha 255.</summary>
    /// <param name="encoded">PNG, JPEG or WebP bytes.</param>
    /// <param name="maxPixels">The most pixels (width·height) to decode; larger images fail before decoding.</param>
    /// <exception cref="ArgumentException">Not a PNG, JPEG or WebP image, truncated or corrupt, or larger than <paramref name="maxPixels"/>.</exception>
    public static unsafe RgbaImage Decode(ReadOnlySpan<byte> encoded, long maxPixels = long.MaxValue)
    {
        using var data = SKData.CreateCopy(encoded);
        using var codec = OpenCodec(data);
        var format = FormatOf(codec);
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        if ((long)width * height > maxPixels)
        {
            throw new ArgumentException($"the image is {width}x{height} = {(long)width * height} pixels, more than the limit of {maxPixels}", nameof(encoded));
        }

        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var pixels = new byte[width * height * 4];
        fixed (byte* destination = pixels)
        {
            var result = codec.GetPixels(info, (IntPtr)destination);
            if (result != SKCodecResult.Success)
            {
                throw new ArgumentException($"the {format.ToString().ToUpperInvariant()} image could not be decoded ({result}): it is truncated or corrupt", nameof(encoded));
            }
        }
        var image = new RgbaImage(width, height, pixels);
        return codec.EncodedOrigin == SKEncodedOrigin.TopLeft ? image : Upright(image, codec.EncodedOrigin);
    }

    private static SKCodec OpenCodec(SKData data)
    {
        var codec = SKCodec.Create(data);
        if (codec is null) throw new ArgumentException("the bytes are not a PNG, JPEG or WebP image", "encoded");
        if (codec.EncodedFormat is not (SKEncodedImageFormat.Png or SKEncodedImageFormat.Jpeg or SKEncodedImageFormat.Webp))
        {
            var found = codec.EncodedFormat;
            codec.Dispose();
            throw new ArgumentException($"the image is {found.ToString().ToUpperInvariant()}, but only PNG, JPEG and WebP are accepted", "encoded");
        }
        return codec;
    }

    private static ImageFormat FormatOf(SKCodec codec) => codec.EncodedFormat switch
    {
        SKEncodedImageFormat.Png => ImageFormat.Png,
        SKEncodedImageFormat.Jpeg => ImageFormat.Jpeg,
        _ => ImageFormat.Webp,
    };

    /// <summary>Width and height after the EXIF orientation is applied (90° turns swap them).</summary>
    private static (int Width, int Height) UprightSize(SKCodec codec) =>
        SwapsAxes(codec.EncodedOrigin) ? (codec.Info.Height, codec.Info.Width) : (codec.Info.Width, codec.Info.Height);

    private static bool SwapsAxes(SKEncodedOrigin origin) =>
        origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;

    /// <summary>Applies an EXIF orientation by remapping pixels (the eight cases of the EXIF spec).</summary>
    private static RgbaImage Upright(RgbaImage stored, SKEncodedOrigin origin)
    {
        int w = stored.Width, h = stored.Height;
        var swap = SwapsAxes(origin);
        var (outWidth, outHeight) = swap ? (h, w) : (w, h);
        var result = new byte[stored.Pixels.Length];
        for (var y = 0; y < outHeight; y++)
        {
            for (var x = 0; x < outWidth; x++)
            {
                // (sx, sy): the stored pixel shown at (x, y).
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, h - 1 - x),
                    SKEncodedOrigin.RightBottom => (w - 1 - y, h - 1 - x),
                    SKEncodedOrigin.LeftBottom => (w - 1 - y, x),
                    _ => (x, y),
                };
                stored.Pixels.AsSpan((sy * w + sx) * 4, 4).CopyTo(result.AsSpan((y * outWidth + x) * 4, 4));
            }
        }
        return new RgbaImage(outWidth, outHeight, result);
    }
}
