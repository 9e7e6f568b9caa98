using YamlDotNet.RepresentationModel;

namespace DiffusionApi.IntegrationTests.Deployment;

/// <summary>A parsed values.yaml, answering whether a template's values path exists in it.</summary>
internal sealed class ValuesTree(YamlMappingNode root)
{
    public YamlMappingNode Root { get; } = root;

    /// <summary>
    /// Null when every key of <paramref name="path"/> exists; otherwise why not, naming the first missing key and the
    /// mapping that lacks it ("values.yaml has no key 'tag' under 'image'").
    /// </summary>
    public string? FindMissing(IReadOnlyList<string> path)
    {
        YamlNode node = Root;
        for (var i = 0; i < path.Count; i++)
        {
            var parent = i == 0 ? "the root" : "'" + string.Join('.', path.Take(i)) + "'";
            if (node is not YamlMappingNode mapping)
            {
                return $"values.yaml has {parent} as a {Describe(node)}, so it has no key '{path[i]}'";
            }

            if (!mapping.Children.TryGetValue(new YamlScalarNode(path[i]), out var child))
            {
                return $"values.yaml has no key '{path[i]}' under {parent}";
            }

            node = child;
        }

        return null;
    }

    /// <summary>The scalar at <paramref name="path"/> (dot-separated), or an exception naming the path.</summary>
    public string Scalar(string path) => Node(path) is YamlScalarNode { Value: { } value }
        ? value
        : throw new InvalidOperationException($"values.yaml has no scalar at '{path}'");

    public YamlNode Node(string path)
    {
        var keys = path.Split('.');
        var missing = FindMissing(keys);
        if (missing is not null)
        {
            throw new InvalidOperationException(missing);
        }

        YamlNode node = Root;
        foreach (var key in keys)
        {
            node = ((YamlMappingNode)node).Children[new YamlScalarNode(key)];
        }

        return node;
    }

    private static string Describe(YamlNode node) => node switch
    {
        YamlSequenceNode => "list",
        YamlScalarNode { Value: null or "" or "~" or "null" } => "null",
        YamlScalarNode scalar => $"scalar ('{scalar.Value}')",
        _ => node.NodeType.ToString(),
    };
}
