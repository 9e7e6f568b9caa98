using System.Text.RegularExpressions;

namespace DiffusionApi.IntegrationTests.Deployment;

/// <summary>
/// Structural checks a helm binary would make when it parses the templates: blocks opened by if/with/range/define
/// are closed by end, and every named template that is included is defined.
/// </summary>
internal static partial class TemplateStructure
{
    private static readonly HashSet<string> BlockOpeners = ["if", "with", "range", "define", "block"];

    /// <summary>Problems with block nesting in one template ("line 12: end without an open block"), empty when none.</summary>
    public static IReadOnlyList<string> FindUnbalancedBlocks(ChartTemplate template)
    {
        var problems = new List<string>();
        var open = new Stack<(string Keyword, int Line)>();
        foreach (var (keyword, line) in ActionKeywords(template.Text))
        {
            if (BlockOpeners.Contains(keyword))
            {
                open.Push((keyword, line));
            }
            else if (keyword == "end" && !open.TryPop(out _))
            {
                problems.Add($"{template.Name}:{line}: end without an open block");
            }
        }

        foreach (var (keyword, line) in open)
        {
            problems.Add($"{template.Name}:{line}: '{keyword}' is never closed by end");
        }

        return problems;
    }

    public static IEnumerable<string> DefinedNames(ChartTemplate template) =>
        Define().Matches(template.Text).Select(match => match.Groups["name"].Value);

    /// <summary>Names used with include "..." or template "..." (static names only).</summary>
    public static IEnumerable<(string Name, int Line)> IncludedNames(ChartTemplate template) =>
        Include().Matches(template.Text).Select(match => (match.Groups["name"].Value, LineOf(template.Text, match.Index)));

    /// <summary>Files named by include (print $.Template.BasePath "/file.yaml") (the checksum annotations).</summary>
    public static IEnumerable<(string File, int Line)> IncludedFiles(ChartTemplate template) =>
        IncludeFile().Matches(template.Text).Select(match => (match.Groups["file"].Value, LineOf(template.Text, match.Index)));

    private static IEnumerable<(string Keyword, int Line)> ActionKeywords(string text)
    {
        foreach (Match action in Action().Matches(text))
        {
            var body = action.Groups["body"].Value.Trim();
            if (body.StartsWith("/*", StringComparison.Ordinal))
            {
                continue;
            }

            var keyword = Keyword().Match(body);
            if (keyword.Success)
            {
                yield return (keyword.Value, LineOf(text, action.Index));
            }
        }
    }

    private static int LineOf(string text, int offset) => text.AsSpan(0, offset).Count('\n') + 1;

    // The body of an action with its trim markers ("{{- " and " -}}") removed.
    [GeneratedRegex(@"\{\{-?\s*(?<body>.*?)\s*-?\}\}", RegexOptions.Singleline)]
    private static partial Regex Action();

    [GeneratedRegex(@"^[a-z]+\b")]
    private static partial Regex Keyword();

    [GeneratedRegex(@"\{\{-?\s*define\s+""(?<name>[^""]+)""")]
    private static partial Regex Define();

    [GeneratedRegex(@"\b(?:include|template)\s+""(?<name>[^""]+)""")]
    private static partial Regex Include();

    [GeneratedRegex(@"include\s+\(print\s+\$\.Template\.BasePath\s+""/(?<file>[^""]+)""\)")]
    private static partial Regex IncludeFile();
}
