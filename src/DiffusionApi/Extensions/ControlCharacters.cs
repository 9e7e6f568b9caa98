using System.Buffers;
using System.Globalization;
using System.Text;

namespace DiffusionApi.Extensions;

/// <summary>
/// Makes text from clients safe to show on one line of a log or an error message: line breaks, ANSI escape sequences
/// and other control characters become visible escapes (<c>\n</c>, <c>\r</c>, <c>\t</c>, <c>\u001b</c>), so a
/// prompt cannot forge a log line or recolour a terminal. Covers C0 and C1 controls, DEL, the Unicode line and
/// paragraph separators and the bidirectional overrides that can reorder what a reader sees.
/// </summary>
public static class ControlCharacters
{
    private static readonly SearchValues<char> Unsafe = SearchValues.Create(Build());

    /// <summary>True when <paramref name="text"/> holds a character <see cref="Escape"/> would replace.</summary>
    public static bool Contains(ReadOnlySpan<char> text) => text.ContainsAny(Unsafe);

    /// <summary><paramref name="text"/> with every unsafe character escaped; the same instance when there is none.</summary>
    public static string Escape(string text)
    {
        var first = text.AsSpan().IndexOfAny(Unsafe);
        if (first < 0) return text;
        var builder = new StringBuilder(text.Length + 16).Append(text, 0, first);
        for (var i = first; i < text.Length; i++)
        {
            var c = text[i];
            if (!Unsafe.Contains(c)) builder.Append(c);
            else if (c == '\n') builder.Append("\\n");
            else if (c == '\r') builder.Append("\\r");
            else if (c == '\t') builder.Append("\\t");
            else builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
        }
        return builder.ToString();
    }

    private static string Build()
    {
        var characters = new StringBuilder();
        for (var c = '\u0000'; c <= '\u001f'; c++) characters.Append(c);
        for (var c = '\u007f'; c <= '\u009f'; c++) characters.Append(c);
        characters.Append('\u2028').Append('\u2029');
        for (var c = '\u202a'; c <= '\u202e'; c++) characters.Append(c);
        for (var c = '\u2066'; c <= '\u2069'; c++) characters.Append(c);
        return characters.ToString();
    }
}
