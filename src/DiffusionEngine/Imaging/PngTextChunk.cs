using System.Buffers.Binary;
using System.Text;

namespace DiffusionEngine.Imaging;

/// <summary>
/// Adds a text chunk to an encoded PNG, right after IHDR (SkiaSharp's encoder cannot write text chunks).
/// Like PIL's <c>PngInfo.add_text</c>, which A1111 uses for "parameters": <c>tEXt</c> when the text is Latin-1
/// encodable, else an uncompressed <c>iTXt</c> holding UTF-8 (empty language tag and translated keyword).
/// </summary>
internal static class PngTextChunk
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    // Signature (8) + IHDR: length (4), type (4), 13 data bytes, CRC (4).
    private const int EndOfHeader = 8 + 4 + 4 + 13 + 4;

    /// <summary>Returns a copy of <paramref name="png"/> with a text chunk <paramref name="keyword"/> = <paramref name="text"/> after IHDR.</summary>
    /// <remarks>NUL characters cannot appear in PNG text (NUL separates the fields), so they are left out of <paramref name="text"/>.</remarks>
    /// <exception cref="ArgumentException"><paramref name="png"/> does not start with a PNG signature and IHDR, or the keyword is not 1–79 Latin-1 characters.</exception>
    public static byte[] InsertAfterHeader(ReadOnlySpan<byte> png, string keyword, string text)
    {
        if (png.Length < EndOfHeader || !png[..8].SequenceEqual(Signature) || !png[12..16].SequenceEqual("IHDR"u8))
            throw new ArgumentException("not a PNG stream that starts with IHDR", nameof(png));
        if (keyword.Length is 0 or > 79 || !IsLatin1(keyword) || keyword.Contains('\0'))
            throw new ArgumentException($"PNG keyword must be 1 to 79 Latin-1 characters but was \"{keyword}\"", nameof(keyword));

        text = text.Replace("\0", "", StringComparison.Ordinal);
        var data = IsLatin1(text) ? TextData(keyword, text) : InternationalTextData(keyword, text);
        var type = IsLatin1(text) ? "tEXt"u8 : "iTXt"u8;

        var result = new byte[png.Length + 12 + data.Length];
        png[..EndOfHeader].CopyTo(result);
        var chunk = result.AsSpan(EndOfHeader, 12 + data.Length);
        BinaryPrimitives.WriteUInt32BigEndian(chunk, (uint)data.Length);
        type.CopyTo(chunk[4..]);
        data.CopyTo(chunk[8..]);
        // The CRC covers the chunk type and data, not the length.
        BinaryPrimitives.WriteUInt32BigEndian(chunk[(8 + data.Length)..], Crc32.Compute(chunk[4..(8 + data.Length)]));
        png[EndOfHeader..].CopyTo(result.AsSpan(EndOfHeader + chunk.Length));
        return result;
    }

    // tEXt: keyword, NUL, Latin-1 text.
    private static byte[] TextData(string keyword, string text)
    {
        var data = new byte[keyword.Length + 1 + text.Length];
        Encoding.Latin1.GetBytes(keyword, data);
        Encoding.Latin1.GetBytes(text, data.AsSpan(keyword.Length + 1));
        return data;
    }

    // iTXt: keyword, NUL, compression flag 0, method 0, language tag "" NUL, translated keyword "" NUL, UTF-8 text.
    private static byte[] InternationalTextData(string keyword, string text)
    {
        var textBytes = Encoding.UTF8.GetBytes(text);
        var data = new byte[keyword.Length + 5 + textBytes.Length];
        Encoding.Latin1.GetBytes(keyword, data);
        textBytes.CopyTo(data.AsSpan(keyword.Length + 5));
        return data;
    }

    private static bool IsLatin1(string s)
    {
        foreach (var c in s)
            if (c > '\u00FF') return false;
        return true;
    }
}
