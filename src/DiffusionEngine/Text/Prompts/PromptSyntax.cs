namespace DiffusionEngine.Text.Prompts;

/// <summary>How prompt text is read before it reaches the text encoder.</summary>
public enum PromptSyntax
{
    /// <summary>
    /// AUTOMATIC1111's: attention weights (<c>(a)</c>, <c>[a]</c>, <c>(a:1.3)</c>), <c>BREAK</c>, and prompts of any
    /// length in chunks of 75 tokens (up to a configured maximum). The default.
    /// </summary>
    A1111,

    /// <summary>The text as written (brackets are tokens), in one 77-token window; what does not fit is cut.</summary>
    Plain,
}

/// <summary>The names <see cref="PromptSyntax"/> values have in options, requests and on the command line.</summary>
public static class PromptSyntaxNames
{
    /// <summary>Every accepted name, in declaration order: "a1111", "plain".</summary>
    public static IReadOnlyList<string> All { get; } = ["a1111", "plain"];

    /// <summary>The name of <paramref name="syntax"/>.</summary>
    public static string NameOf(PromptSyntax syntax) => All[(int)syntax];

    /// <summary>Reads a name (ordinal, case-insensitive); false for anything else.</summary>
    public static bool TryParse(string? name, out PromptSyntax syntax)
    {
        var index = NameList.IndexOf(All, name);
        syntax = index < 0 ? default : (PromptSyntax)index;
        return index >= 0;
    }
}
