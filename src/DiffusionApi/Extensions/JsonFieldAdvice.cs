using System.Text.Json;

namespace DiffusionApi.Extensions;

/// <summary>
/// What to tell a client that sent a field its endpoint's body type does not declare: the field to use instead
/// (<c>width: unknown field; use size</c>), or why a field of another API cannot be honoured here
/// (<c>style: "vivid" is not supported; …</c>). One table per API surface (ours and OpenAI's under /v1, A1111's under
/// /sdapi/v1), attached to that surface's endpoints (<see cref="JsonRequestBodyExtensions.WithJsonBody"/>) and read by
/// <see cref="JsonRequestBodyMiddleware"/>.
/// A "use instead" entry is shown only when the endpoint's body type declares that field, so one table serves every
/// body type of its surface. Names match without regard to case.
/// </summary>
public sealed class JsonFieldAdvice
{
    private readonly Dictionary<string, (string Field, string? Hint)> _useInstead = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _notSupported = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Other APIs' names for one of our fields, e.g. <c>cfg_scale</c> for <c>guidance_scale</c>.</summary>
    /// <param name="field">Our field, as the body type declares it.</param>
    /// <param name="hint">Said after the field, e.g. the value's shape; null for none.</param>
    /// <param name="names">The other names.</param>
    public JsonFieldAdvice UseInstead(string field, string? hint, params string[] names)
    {
        foreach (var name in names) _useInstead.Add(name, (field, hint));
        return this;
    }

    /// <summary>A field of another API that this surface cannot honour, with the reason (and what to do instead).</summary>
    public JsonFieldAdvice NotSupported(string name, string reason)
    {
        _notSupported.Add(name, reason);
        return this;
    }

    /// <summary>
    /// The message for an undeclared field <paramref name="name"/> with <paramref name="value"/>: the table's advice,
    /// else a declared name it is probably a misspelling of, else just "unknown field".
    /// </summary>
    /// <param name="advice">The surface's table; null when it has none.</param>
    /// <param name="name">The field as sent.</param>
    /// <param name="value">Its value, quoted in a "not supported" message.</param>
    /// <param name="declared">The JSON names the body type declares.</param>
    public static string Describe(JsonFieldAdvice? advice, string name, JsonElement value, IReadOnlyCollection<string> declared)
    {
        var shown = ControlCharacters.Escape(name);
        if (advice is not null)
        {
            if (advice._notSupported.TryGetValue(name, out var reason))
                return $"{shown}: {Shorten(value.GetRawText())} is not supported; {reason}";
            if (advice._useInstead.TryGetValue(name, out var instead) && declared.Contains(instead.Field, StringComparer.OrdinalIgnoreCase))
                return instead.Hint is null ? $"{shown}: unknown field; use {instead.Field}" : $"{shown}: unknown field; use {instead.Field} ({instead.Hint})";
        }
        return Closest(name, declared) is { } guess ? $"{shown}: unknown field; did you mean {guess}?" : $"{shown}: unknown field";
    }

    /// <summary>A declared name within two edits of a misspelt one (e.g. "promt" for "prompt"), if any.</summary>
    private static string? Closest(string name, IReadOnlyCollection<string> declared)
    {
        if (name.Length < 3 || name.Length > 64) return null;
        string? best = null;
        var bestDistance = 3;
        foreach (var candidate in declared)
        {
            var distance = EditDistance(name.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance && distance < candidate.Length / 2)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best;
    }

    // Levenshtein distance with two rows; names are short.
    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    internal static string Shorten(string raw) => ControlCharacters.Escape(raw.Length <= 40 ? raw : raw[..40] + "…");
}
