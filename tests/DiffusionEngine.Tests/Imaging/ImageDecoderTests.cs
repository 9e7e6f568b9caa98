using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;
using SkiaSharp;

namespace DiffusionEngine.Tests.Imaging;

/// <summary>Init images and masks come in as PNG, JPEG or WebP bytes; everything else, and oversized images, are refused before decoding.</summary>
public sealed class ImageDecoderTests
{
    private static GeneratedImage Image(int width = 24, int height = 16)
    {
        var rgb = new byte[width * height * 3];
        for (var i = 0; i < rgb.Length; i++) rgb[i] = (byte)(i * 37 % 256);
        return new GeneratedImage(new GenerationRequest { Prompt = "test", Width = width, Height = height }, width, height, rgb);
    }

    [Fact]
    public void Decode_APng_GivesTheExactPixelsOpaque()
    {
        var image = Image();

        var decoded = ImageDecoder.Decode(ImageEncoder.Encode(image, ImageFormat.Png));

        Assert.Equal((24, 16), (decoded.Width, decoded.Height));
        Assert.Equal(RgbaImage.FromRgb(24, 16, image.Rgb).Pixels, decoded.Pixels);
        Assert.False(decoded.HasFullyTransparentPixels);
    }

    [Theory]
    [InlineData(ImageFormat.Jpeg)]
    [InlineData(ImageFormat.Webp)]
    public void Decode_JpegAndWebp_GiveAnImageOfTheSize(ImageFormat format)
    {
        var decoded = ImageDecoder.Decode(ImageEncoder.Encode(Image(), format));

        Assert.Equal((24, 16), (decoded.Width, decoded.Height));
        Assert.Equal(format, ImageDecoder.ReadHeader(ImageEncoder.Encode(Image(), format)).Format);
    }

    [Fact]
    public void Decode_APngWithAlpha_KeepsItStraight()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(2, 1, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.SetPixel(0, 0, new SKColor(200, 100, 50, 0));
        bitmap.SetPixel(1, 0, new SKColor(10, 20, 30, 128));
        using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);

        var decoded = ImageDecoder.Decode(png.ToArray());

        Assert.Equal(0, decoded.Pixels[3]);
        Assert.Equal(new byte[] { 10, 20, 30, 128 }, decoded.Pixels[4..8]);
        Assert.True(decoded.HasFullyTransparentPixels);
    }

    [Fact]
    public void Decode_OtherFormats_AreRefusedByName()
    {
        using var bitmap = new SKBitmap(4, 4);
        using var gif = bitmap.Encode(SKEncodedImageFormat.Gif, 100);
        var bytes = gif?.ToArray() ?? "GIF89a\u0004\0\u0004\0\0\0\0,\0\0\0\0\u0004\0\u0004\0\0\u0002\u0002D\u0001\0;"u8.ToArray();

        var error = Assert.Throws<ArgumentException>(() => ImageDecoder.Decode(bytes));

        Assert.Contains("only PNG, JPEG and WebP are accepted", error.Message);
    }

    [Fact]
    public void Decode_Garbage_SaysItIsNotAnImage()
    {
        var error = Assert.Throws<ArgumentException>(() => ImageDecoder.Decode("not an image at all"u8));

        Assert.StartsWith("the bytes are not a PNG, JPEG or WebP image", error.Message);
    }

    [Fact]
    public void Decode_ATruncatedPng_IsRefused()
    {
        var png = ImageEncoder.Encode(Image(64, 64), ImageFormat.Png);

        var error = Assert.Throws<ArgumentException>(() => ImageDecoder.Decode(png.AsSpan(0, png.Length / 2)));

        Assert.Contains("truncated or corrupt", error.Message);
    }

    [Fact]
    public void Decode_MorePixelsThanTheLimit_IsRefusedBeforeDecoding()
    {
        var png = ImageEncoder.Encode(Image(24, 16), ImageFormat.Png);

        var error = Assert.Throws<ArgumentException>(() => ImageDecoder.Decode(png, maxPixels: 24 * 16 - 1));

        Assert.StartsWith("the image is 24x16 = 384 pixels, more than the limit of 383", error.Message);
        Assert.Equal(24 * 16 * 4, ImageDecoder.Decode(png, maxPixels: 24 * 16).Pixels.Length);
    }

    [Fact]
    public void Resize_ToTheSameSize_ReturnsTheSameInstance_AndToAnotherSizeResamples()
    {
        var image = RgbaImage.FromRgb(24, 16, Image().Rgb);

        Assert.Same(image, image.Resize(24, 16));
        var resized = image.Resize(12, 8);
        Assert.Equal((12, 8, 12 * 8 * 4), (resized.Width, resized.Height, resized.Pixels.Length));
    }
}
