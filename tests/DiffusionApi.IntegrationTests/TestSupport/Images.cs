namespace DiffusionApi.IntegrationTests.TestSupport;

/// <summary>Recognises encoded images by their signatures.</summary>
public static class Images
{
    public static bool IsPng(byte[] bytes) => bytes.Length > 8 && bytes.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A });

    public static bool IsJpeg(byte[] bytes) => bytes.Length > 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;

    public static bool IsWebp(byte[] bytes) => bytes.Length > 12 && bytes.AsSpan(0, 4).SequenceEqual("RIFF"u8) && bytes.AsSpan(8, 4).SequenceEqual("WEBP"u8);

    /// <summary>The decoded RGBA pixels of an encoded image (to compare images whose metadata differs).</summary>
    public static byte[] DecodePixels(byte[] encoded) => DiffusionEngine.Imaging.ImageDecoder.Decode(encoded).Pixels;

    /// <summary>Width and height from a PNG's IHDR chunk.</summary>
    public static (int Width, int Height) PngSize(byte[] png) =>
        (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));

    /// <summary>The text of a PNG tEXt chunk with this keyword (Latin-1, as the PNG spec says), or null.</summary>
    public static string? PngText(byte[] png, string keyword)
    {
        for (var at = 8; at + 12 <= png.Length;)
        {
            var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            var data = png.AsSpan(at + 8, length);
            if (png.AsSpan(at + 4, 4).SequenceEqual("tEXt"u8) && data.IndexOf((byte)0) is var zero and > 0
                && System.Text.Encoding.Latin1.GetString(data[..zero]) == keyword)
                return System.Text.Encoding.Latin1.GetString(data[(zero + 1)..]);
            at += 12 + length;
        }
        return null;
    }
}
