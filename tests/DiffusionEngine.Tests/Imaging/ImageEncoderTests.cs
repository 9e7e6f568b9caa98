using System.Text;
using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;
using SkiaSharp;

namespace DiffusionEngine.Tests.Imaging;

public sealed class ImageEncoderTests
{
    private const int Width = 40;
    private const int Height = 24;

    // A deterministic image with distinct values in every channel, so a channel swap or row shift shows.
    private static GeneratedImage MakeImage(int width = Width, int height = Height)
    {
        var rgb = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
        {
            var i = (y * width + x) * 3;
            rgb[i] = (byte)(x * 6);
            rgb[i + 1] = (byte)(y * 10);
            rgb[i + 2] = (byte)((x * 7 + y * 13) % 256);
        }

        return new GeneratedImage(new GenerationRequest { Prompt = "test", Width = width, Height = height }, width, height, rgb);
    }

    [Theory]
    [InlineData(Width, Height)] // mostly the four-pixel SIMD path, then a scalar tail
    [InlineData(1, 1)]          // scalar path only
    [InlineData(3, 5)]
    public void Png_DecodesToTheExactPixels(int width, int height)
    {
        var image = MakeImage(width, height);

        using var decoded = SKBitmap.Decode(ImageEncoder.Encode(image, ImageFormat.Png));

        Assert.Equal(width, decoded.Width);
        Assert.Equal(height, decoded.Height);
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
        {
            var i = (y * width + x) * 3;
            var pixel = decoded.GetPixel(x, y);
            Assert.Equal((image.Rgb[i], image.Rgb[i + 1], image.Rgb[i + 2], (byte)255), (pixel.Red, pixel.Green, pixel.Blue, pixel.Alpha));
        }
    }

    [Theory]
    [InlineData(ImageFormat.Jpeg)]
    [InlineData(ImageFormat.Webp)]
    public void LossyFormats_DecodeToTheRightSizeAndCloseColours(ImageFormat format)
    {
        var image = MakeImage();

        using var decoded = SKBitmap.Decode(ImageEncoder.Encode(image, format, quality: 95));

        Assert.Equal(Width, decoded.Width);
        Assert.Equal(Height, decoded.Height);
        double totalError = 0;
        for (var y = 0; y < Height; y++)
        for (var x = 0; x < Width; x++)
        {
            var i = (y * Width + x) * 3;
            var pixel = decoded.GetPixel(x, y);
            totalError += Math.Abs(pixel.Red - image.Rgb[i]) + Math.Abs(pixel.Green - image.Rgb[i + 1]) + Math.Abs(pixel.Blue - image.Rgb[i + 2]);
        }

        Assert.True(totalError / (Width * Height * 3) < 12, $"mean absolute error {totalError / (Width * Height * 3):F2} of 255");
    }

    [Fact]
    public void Jpeg_StartsWithJpegMagic()
    {
        var bytes = ImageEncoder.Encode(MakeImage(), ImageFormat.Jpeg);

        Assert.Equal([0xFF, 0xD8, 0xFF], bytes[..3]);
    }

    [Fact]
    public void Webp_StartsWithRiffWebpMagic()
    {
        var bytes = ImageEncoder.Encode(MakeImage(), ImageFormat.Webp);

        Assert.Equal("RIFF"u8.ToArray(), bytes[..4]);
        Assert.Equal("WEBP"u8.ToArray(), bytes[8..12]);
    }

    [Fact]
    public void Png_WithLatin1Parameters_HasTextChunkAfterIhdrAndValidCrcs()
    {
        const string parameters = "a café at night\nSteps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 42, Size: 40x24, Model: tiny-sd";

        var chunks = PngChunks.Read(ImageEncoder.Encode(MakeImage(), ImageFormat.Png, parameters));

        Assert.Equal("IHDR", chunks[0].Type);
        Assert.Equal(2, chunks[0].Data[9]); // colour type 2: RGB, no alpha channel for an opaque image
        Assert.Equal("tEXt", chunks[1].Type);
        Assert.Equal("IEND", chunks[^1].Type);
        Assert.All(chunks, chunk => Assert.True(chunk.CrcValid, $"{chunk.Type} CRC {chunk.StoredCrc:x8} != {chunk.ComputedCrc:x8}"));
        Assert.Equal("parameters\0" + parameters, Encoding.Latin1.GetString(chunks[1].Data));
    }

    [Fact]
    public void Png_WithNonLatin1Parameters_HasUtf8InternationalTextChunk()
    {
        const string parameters = "日本の石灯籠 🙂\nSteps: 20";

        var chunks = PngChunks.Read(ImageEncoder.Encode(MakeImage(), ImageFormat.Png, parameters));

        var chunk = Assert.Single(chunks, c => c.Type == "iTXt");
        Assert.True(chunk.CrcValid);
        Assert.Equal("parameters\0\0\0\0\0"u8.ToArray(), chunk.Data[..15]); // keyword, flag, method, "" lang, "" translated
        Assert.Equal(parameters, Encoding.UTF8.GetString(chunk.Data[15..]));
        Assert.DoesNotContain(chunks, c => c.Type == "tEXt");
    }

    [Fact]
    public void Png_WithTextChunk_StillDecodesToTheSamePixels()
    {
        var image = MakeImage();
        using var plain = SKBitmap.Decode(ImageEncoder.Encode(image, ImageFormat.Png));

        using var withText = SKBitmap.Decode(ImageEncoder.Encode(image, ImageFormat.Png, "prompt\nSteps: 20"));

        Assert.Equal(plain.Bytes, withText.Bytes);
    }

    [Fact]
    public void Png_WithoutParameters_HasNoTextChunk()
    {
        var chunks = PngChunks.Read(ImageEncoder.Encode(MakeImage(), ImageFormat.Png));

        Assert.DoesNotContain(chunks, c => c.Type is "tEXt" or "iTXt" or "zTXt");
        Assert.All(chunks, chunk => Assert.True(chunk.CrcValid));
    }

    [Fact]
    public void Encode_BufferOfWrongLength_ThrowsNamingTheSizes()
    {
        var image = new GeneratedImage(new GenerationRequest { Prompt = "" }, 8, 8, new byte[100]);

        var error = Assert.Throws<ArgumentException>(() => ImageEncoder.Encode(image, ImageFormat.Png));

        Assert.Contains("8x8x3 = 192 bytes but holds 100", error.Message);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(101)]
    public void Encode_QualityOutsideRange_Throws(int quality) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageEncoder.Encode(MakeImage(), ImageFormat.Jpeg, quality: quality));

    [Fact]
    public void Crc32_MatchesTheStandardCheckValue() =>
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
}
