using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace DiffusionApi.IntegrationTests.Deployment;

/// <summary>
/// The objects <c>helm template</c> printed (a multi-document YAML stream), parsed with YamlDotNet, with lookups by kind
/// and name and by dotted path inside an object.
/// </summary>
internal sealed class RenderedManifests
{
    private RenderedManifests(IReadOnlyList<YamlMappingNode> objects) => Objects = objects;

    public IReadOnlyList<YamlMappingNode> Objects { get; }

    /// <summary>"Kind/name" of every object, in helm's order.</summary>
    public IReadOnlyList<string> Names => Objects.Select(o => $"{Text(o, "kind")}/{Text(o, "metadata.name")}").ToList();

    public static RenderedManifests Parse(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"helm printed invalid YAML at {e.Start.Line}:{e.Start.Column}: {e.Message}\n{yaml}", e);
        }

        // Empty documents (a template that rendered nothing but comments) carry no object.
        return new RenderedManifests(stream.Documents
            .Select(d => d.RootNode)
            .Where(node => node is not YamlScalarNode { Value: null or "" })
            .Select(node => node as YamlMappingNode ?? throw new InvalidDataException($"a rendered document is a {node.NodeType}, not an object"))
            .ToList());
    }

    public IReadOnlyList<YamlMappingNode> OfKind(string kind) => Objects.Where(o => Text(o, "kind") == kind).ToList();

    public YamlMappingNode Single(string kind, string name)
    {
        var matches = Objects.Where(o => Text(o, "kind") == kind && Text(o, "metadata.name") == name).ToList();
        Assert.True(matches.Count == 1, $"expected one {kind}/{name} among: {string.Join(", ", Names)}");
        return matches[0];
    }

    /// <summary>The node at a dotted path of mapping keys, or null.</summary>
    public static YamlNode? Node(YamlNode node, string path)
    {
        YamlNode? current = node;
        foreach (var key in path.Split('.'))
        {
            if (current is not YamlMappingNode mapping || !mapping.Children.TryGetValue(new YamlScalarNode(key), out current)) return null;
        }

        return current;
    }

    /// <summary>The scalar at a dotted path, or null when absent.</summary>
    public static string? Text(YamlNode node, string path) => (Node(node, path) as YamlScalarNode)?.Value;

    public static IReadOnlyDictionary<string, string> StringMap(YamlNode node, string path) =>
        Node(node, path) is YamlMappingNode mapping
            ? mapping.Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => (p.Value as YamlScalarNode)?.Value ?? "")
            : new Dictionary<string, string>();

    /// <summary>The one container of a Deployment's pod.</summary>
    public static YamlMappingNode Container(YamlMappingNode deployment) =>
        (YamlMappingNode)Assert.Single(((YamlSequenceNode)Node(deployment, "spec.template.spec.containers")!).Children);

    /// <summary>A container's env entries by name (each the whole EnvVar: value or valueFrom).</summary>
    public static IReadOnlyDictionary<string, YamlMappingNode> Env(YamlMappingNode container) =>
        Node(container, "env") is YamlSequenceNode env
            ? env.Children.Cast<YamlMappingNode>().ToDictionary(e => Text(e, "name")!)
            : new Dictionary<string, YamlMappingNode>();

    /// <summary>Secret name and key of an env entry's secretKeyRef (null when it has none).</summary>
    public static (string? Name, string? Key, string? Optional) SecretRef(YamlMappingNode envVar) =>
        (Text(envVar, "valueFrom.secretKeyRef.name"), Text(envVar, "valueFrom.secretKeyRef.key"), Text(envVar, "valueFrom.secretKeyRef.optional"));
}
