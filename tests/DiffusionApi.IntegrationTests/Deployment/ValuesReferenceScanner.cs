using System.Text.RegularExpressions;

namespace DiffusionApi.IntegrationTests.Deployment;

/// <summary>
/// Finds the values paths a Helm template reads: every <c>.Values.x.y</c> and <c>$.Values.x.y</c> inside a template
/// action (<c>{{ ... }}</c>), skipping template comments (<c>{{/* ... */}}</c>). Text outside actions (YAML, YAML
/// comments) is ignored. Relative references inside <c>with</c>/<c>range</c> blocks (<c>.foo</c>) are not values paths
/// and are not reported; <c>index .Values "a"</c> is reported as <c>.Values</c> itself, which always exists.
/// </summary>
internal static partial class ValuesReferenceScanner
{
    public static IReadOnlyList<ValuesReference> Scan(string templateName, string text)
    {
        var references = new List<ValuesReference>();
        foreach (Match action in TemplateAction().Matches(text))
        {
            var body = action.Groups["body"].Value;
            if (IsComment(body))
            {
                continue;
            }

            foreach (Match reference in ValuesPath().Matches(body))
            {
                var path = reference.Groups["path"].Value.Split('.', StringSplitOptions.RemoveEmptyEntries);
                var offset = action.Groups["body"].Index + reference.Index;
                references.Add(new ValuesReference(templateName, LineOf(text, offset), path));
            }
        }

        return references;
    }

    private static bool IsComment(string actionBody)
    {
        var trimmed = actionBody.Trim().TrimStart('-').TrimEnd('-').Trim();
        return trimmed.StartsWith("/*", StringComparison.Ordinal) && trimmed.EndsWith("*/", StringComparison.Ordinal);
    }

    private static int LineOf(string text, int offset)
    {
        var line = 1;
        for (var i = 0; i < offset; i++)
        {
            if (text[i] == '\n')
            {
                line++;
            }
        }

        return line;
    }

    // {{ ... }} across lines; a template action cannot contain "}}" except inside a string, which our templates avoid.
    [GeneratedRegex(@"\{\{(?<body>.*?)\}\}", RegexOptions.Singleline)]
    private static partial Regex TemplateAction();

    // ".Values" or "$.Values" not preceded by an identifier character or a closing bracket (so "$x.Values" and
    // "(foo).Values" are not taken for the root values), followed by one or more ".key" segments.
    [GeneratedRegex(@"(?<![\w\)\]])\$?\.Values(?<path>(?:\.[A-Za-z_][A-Za-z0-9_]*)+)")]
    private static partial Regex ValuesPath();
}
