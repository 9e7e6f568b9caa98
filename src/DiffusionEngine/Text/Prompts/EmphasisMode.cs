namespace DiffusionEngine.Text.Prompts;

/// <summary>How per-token weights change a chunk's hidden states (see <see cref="PromptEmphasis"/> for the formulas).</summary>
public enum EmphasisMode
{
    /// <summary>A1111's default ("Original"): scale each token's vector by its weight, then restore the chunk's mean.</summary>
    Original,

    /// <summary>A1111's "No norm": scale each token's vector by its weight; no mean restoration.</summary>
    NoNorm,

    /// <summary>A1111's "Ignore": weights are parsed (brackets are not text) but change nothing.</summary>
    Ignore,

    /// <summary>ComfyUI's default: move each weighted token's vector away from (or toward) the empty prompt's vector at the same position.</summary>
    Comfy,
}

/// <summary>The names <see cref="EmphasisMode"/> values have in options and requests.</summary>
public static class EmphasisModeNames
{
    /// <summary>Every accepted name, in declaration order: "original", "no_norm", "ignore", "comfy".</summary>
    public static IReadOnlyList<string> All { get; } = ["original", "no_norm", "ignore", "comfy"];

    /// <summary>The name of <paramref name="mode"/>.</summary>
    public static string NameOf(EmphasisMode mode) => All[(int)mode];

    /// <summary>
    /// The name A1111 writes in an image's infotext ("Emphasis: No norm"), or null for <see cref="EmphasisMode.Comfy"/>,
    /// which A1111 does not have.
    /// </summary>
    public static string? A1111NameOf(EmphasisMode mode) => mode switch
    {
        EmphasisMode.Original => "Original",
        EmphasisMode.NoNorm => "No norm",
        EmphasisMode.Ignore => "Ignore",
        _ => null,
    };

    /// <summary>Reads a name (ordinal, case-insensitive); false for anything else.</summary>
    public static bool TryParse(string? name, out EmphasisMode mode)
    {
        var index = NameList.IndexOf(All, name);
        mode = index < 0 ? default : (EmphasisMode)index;
        return index >= 0;
    }
}
