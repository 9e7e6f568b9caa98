using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace DiffusionApi.IntegrationTests.Deployment;

/// <summary>
/// deploy/helm/diffusion-service read as files: Chart.yaml and values.yaml parsed as YAML (a parse error throws
/// InvalidDataException naming file, line and column), the templates as text. No helm binary is involved.
/// </summary>
internal sealed class HelmChart
{
    public const string RelativePath = "deploy/helm/diffusion-service";

    private HelmChart(string directory, YamlMappingNode chart, ValuesTree values, IReadOnlyList<ChartTemplate> templates)
    {
        Directory = directory;
        Chart = chart;
        Values = values;
        Templates = templates;
    }

    public string Directory { get; }

    public YamlMappingNode Chart { get; }

    public ValuesTree Values { get; }

    public IReadOnlyList<ChartTemplate> Templates { get; }

    public static HelmChart Load() => Load(RepositoryRoot.Combine(RelativePath.Split('/')));

    public static HelmChart Load(string directory)
    {
        var chart = LoadMapping(Path.Combine(directory, "Chart.yaml"));
        var values = LoadMapping(Path.Combine(directory, "values.yaml"));
        var templates = System.IO.Directory.GetFiles(Path.Combine(directory, "templates"))
            .Order(StringComparer.Ordinal)
            .Select(path => new ChartTemplate(Path.GetFileName(path), File.ReadAllText(path)))
            .ToList();
        return new HelmChart(directory, chart, new ValuesTree(values), templates);
    }

    public string ChartScalar(string key) =>
        Chart.Children.TryGetValue(new YamlScalarNode(key), out var node) && node is YamlScalarNode { Value: { } value }
            ? value
            : throw new InvalidOperationException($"Chart.yaml has no scalar '{key}'");

    /// <summary>
    /// Every values path a template reads that values.yaml does not define, as "file:line .Values.path: why";
    /// empty when all are defined. (Helm renders a missing value as empty, so such a typo fails silently there.)
    /// </summary>
    public IReadOnlyList<string> FindUndefinedValuesReferences() => Templates
        .SelectMany(template => ValuesReferenceScanner.Scan(template.Name, template.Text))
        .Select(reference => (reference, problem: Values.FindMissing(reference.Path)))
        .Where(pair => pair.problem is not null)
        .Select(pair => $"{pair.reference}: {pair.problem}")
        .ToList();

    /// <summary>Parses a file that must hold exactly one YAML document whose root is a mapping.</summary>
    public static YamlMappingNode LoadMapping(string path)
    {
        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            stream.Load(reader);
        }
        catch (YamlException e)
        {
            throw new InvalidDataException(
                $"{path}:{e.Start.Line}:{e.Start.Column} is not valid YAML: {e.InnerException?.Message ?? e.Message}", e);
        }

        if (stream.Documents.Count != 1)
        {
            throw new InvalidDataException($"{path} must hold one YAML document but holds {stream.Documents.Count}");
        }

        return stream.Documents[0].RootNode as YamlMappingNode
            ?? throw new InvalidDataException(
                $"{path} must have a mapping at its root but has a {stream.Documents[0].RootNode.NodeType}");
    }
}

/// <summary>One file under templates/ (a manifest, a partial such as _helpers.tpl, or NOTES.txt).</summary>
internal sealed record ChartTemplate(string Name, string Text);
