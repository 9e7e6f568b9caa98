using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace DiffusionApi.Apis.Sdapi;

/// <summary>
/// What <c>POST /sdapi/v1/png-info</c> reads: a PNG's text chunks (tEXt, and uncompressed iTXt) and A1111's infotext in
/// the "parameters" chunk, parsed as A1111's <c>parse_generation_parameters</c> does (prompt, negative prompt, then
/// "Key: value" pairs; "Size" also as Size-1/Size-2).
/// </summary>
public static partial class PngInfo
{
    private static ReadOnlySpan<byte> Signature => [137, 80, 78, 71, 13, 10, 26, 10];

    /// <summary>The text chunks by keyword, or null when <paramref name="png"/> is not a PNG.</summary>
    public static Dictionary<string, string>? ReadTextChunks(ReadOnlySpan<byte> png)
    {
        if (!png.StartsWith(Signature)) return null;
        var chunks = new Dictionary<string, string>(StringComparer.Ordinal);
        var offset = Signature.Length;
        while (offset + 12 <= png.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png[offset..]);
            if (length < 0 || offset + 12 + (long)length > png.Length) break;
            var type = Encoding.ASCII.GetString(png.Slice(offset + 4, 4));
            var data = png.Slice(offset + 8, length);
            var zero = data.IndexOf((byte)0);
            if (type == "tEXt" && zero > 0)
                chunks[Encoding.Latin1.GetString(data[..zero])] = Encoding.Latin1.GetString(data[(zero + 1)..]);
            else if (type == "iTXt" && zero > 0 && zero + 2 < data.Length && data[zero + 1] == 0)
            {
                // keyword\0 compression-flag(0) method \0 language \0 translated \0 text
                var rest = data[(zero + 3)..];
                var language = rest.IndexOf((byte)0);
                if (language >= 0)
                {
                    rest = rest[(language + 1)..];
                    var translated = rest.IndexOf((byte)0);
                    if (translated >= 0) chunks[Encoding.Latin1.GetString(data[..zero])] = Encoding.UTF8.GetString(rest[(translated + 1)..]);
                }
            }
            if (type == "IEND") break;
            offset += 12 + length;
        }
        return chunks;
    }

    /// <summary>A1111's parse_generation_parameters: Prompt, Negative prompt and every "Key: value" of the last line.</summary>
    public static Dictionary<string, string> Parse(string infotext)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = infotext.Trim().Split('\n');
        var last = lines[^1];
        var hasParameters = Pair().Matches(last).Count >= 3;
        var textLines = hasParameters ? lines[..^1] : lines;
        var prompt = new StringBuilder();
        var negative = new StringBuilder();
        var inNegative = false;
        foreach (var raw in textLines)
        {
            var line = raw.Trim();
            if (line.StartsWith("Negative prompt:", StringComparison.Ordinal))
            {
                inNegative = true;
                line = line["Negative prompt:".Length..].Trim();
            }
            var target = inNegative ? negative : prompt;
            if (target.Length > 0) target.Append('\n');
            target.Append(line);
        }
        result["Prompt"] = prompt.ToString();
        result["Negative prompt"] = negative.ToString();
        if (!hasParameters) return result;
        foreach (Match match in Pair().Matches(last))
        {
            var key = match.Groups[1].Value.Trim();
            var value = match.Groups[2].Value.Trim();
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
            {
                try
                {
                    value = System.Text.Json.JsonSerializer.Deserialize<string>(value) ?? value;
                }
                catch (System.Text.Json.JsonException)
                {
                    // keep it as written
                }
            }
            var size = SizePattern().Match(value);
            if (size.Success)
            {
                result[key + "-1"] = size.Groups[1].Value;
                result[key + "-2"] = size.Groups[2].Value;
            }
            else result[key] = value;
        }
        return result;
    }

    [GeneratedRegex("""\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)""")]
    private static partial Regex Pair();

    [GeneratedRegex("""^(\d+)x(\d+)$""")]
    private static partial Regex SizePattern();
}
