using System.Text.Json;
using System.Text.RegularExpressions;

namespace DiffusionApi.IntegrationTests.Deployment;

/// <summary>
/// deploy/Dockerfile read as instructions (continuation lines joined, comments dropped), grouped into stages, with
/// ARG defaults substituted into FROM. Enough to check it against the chart and the contract without a Docker engine.
/// </summary>
internal sealed partial class Dockerfile
{
    public const string RelativePath = "deploy/Dockerfile";

    private Dockerfile(IReadOnlyList<DockerfileStage> stages) => Stages = stages;

    public IReadOnlyList<DockerfileStage> Stages { get; }

    /// <summary>The last stage: what the image runs.</summary>
    public DockerfileStage Runtime => Stages[^1];

    public static Dockerfile Load() => Parse(File.ReadAllText(RepositoryRoot.Combine(RelativePath.Split('/'))));

    public static Dockerfile Parse(string text)
    {
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        var stages = new List<DockerfileStage>();
        foreach (var instruction in Instructions(text))
        {
            var space = instruction.IndexOf(' ', StringComparison.Ordinal);
            var keyword = (space < 0 ? instruction : instruction[..space]).ToUpperInvariant();
            var arguments = space < 0 ? "" : instruction[(space + 1)..].Trim();
            if (keyword == "ARG" && stages.Count == 0)
            {
                var equals = arguments.IndexOf('=', StringComparison.Ordinal);
                if (equals > 0)
                {
                    args[arguments[..equals]] = arguments[(equals + 1)..];
                }
            }
            else if (keyword == "FROM")
            {
                var parts = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var image = ArgReference().Replace(parts[0], match =>
                    args.TryGetValue(match.Groups["name"].Value, out var value) ? value : match.Value);
                var name = parts.Length >= 3 && parts[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? parts[2] : null;
                stages.Add(new DockerfileStage(image, name));
            }
            else if (stages.Count > 0)
            {
                stages[^1].Instructions.Add((keyword, arguments));
            }
        }

        return stages.Count > 0 ? new Dockerfile(stages) : throw new InvalidDataException("the Dockerfile has no FROM");
    }

    private static IEnumerable<string> Instructions(string text)
    {
        var current = "";
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                current += line[..^1].Trim() + " ";
                continue;
            }

            current += line.Trim();
            if (current.Length > 0)
            {
                yield return current;
            }

            current = "";
        }
    }

    [GeneratedRegex(@"\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex ArgReference();
}

/// <summary>One FROM ... [AS name] stage and its instructions (keyword upper-cased, arguments as written).</summary>
internal sealed class DockerfileStage(string baseImage, string? name)
{
    public string BaseImage { get; } = baseImage;

    public string? Name { get; } = name;

    public List<(string Keyword, string Arguments)> Instructions { get; } = [];

    public IEnumerable<string> All(string keyword) =>
        Instructions.Where(instruction => instruction.Keyword == keyword).Select(instruction => instruction.Arguments);

    /// <summary>ENV NAME=value lines (the one-per-line form the smoke test relies on).</summary>
    public IReadOnlyDictionary<string, string> Environment =>
        All("ENV").Select(arguments => arguments.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair.Length == 2 ? pair[1] : "", StringComparer.Ordinal);

    /// <summary>The ENTRYPOINT in exec (JSON array) form; throws when it is in shell form.</summary>
    public IReadOnlyList<string> Entrypoint =>
        JsonSerializer.Deserialize<string[]>(All("ENTRYPOINT").Last())
        ?? throw new InvalidDataException("ENTRYPOINT is not a JSON array");
}
