using System.Globalization;
using Onnx;

namespace DiffusionEngine.Optimization;

/// <summary>
/// Look-ups over one graph for the pattern matchers (who produces a value, who consumes it, which values are constants)
/// and the edits the rewriters make (replace a node, add initializers, prune what nothing uses any more).
/// The maps are rebuilt by <see cref="Refresh"/> after each rewrite pass; a pass reads them and queues its edits.
/// </summary>
internal sealed class GraphIndex
{
    public const string MicrosoftDomain = "com.microsoft";

    private readonly Dictionary<string, NodeProto> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<NodeProto>> _consumers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorProto> _initializers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _graphOutputs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private int _nameCounter;

    public GraphIndex(OnnxModelDocument document)
    {
        Document = document;
        Refresh();
    }

    public OnnxModelDocument Document { get; }

    public GraphProto Graph => Document.Graph;

    /// <summary>Version of the default (ai.onnx) opset the model imports.</summary>
    public long OpsetVersion
    {
        get
        {
            foreach (var opset in Document.Model.OpsetImport)
                if (opset.Domain is "" or "ai.onnx") return opset.Version;
            return 0;
        }
    }

    public void Refresh()
    {
        _producers.Clear();
        _consumers.Clear();
        _initializers.Clear();
        _graphOutputs.Clear();
        _names.Clear();
        foreach (var tensor in Graph.Initializer)
        {
            _initializers[tensor.Name] = tensor;
            _names.Add(tensor.Name);
        }
        foreach (var output in Graph.Output) _graphOutputs.Add(output.Name);
        foreach (var input in Graph.Input) _names.Add(input.Name);
        foreach (var node in Graph.Node)
        {
            _names.Add(node.Name);
            foreach (var output in node.Output)
            {
                if (output.Length == 0) continue;
                _producers[output] = node;
                _names.Add(output);
            }
            foreach (var input in node.Input)
            {
                if (input.Length == 0) continue;
                if (!_consumers.TryGetValue(input, out var list)) _consumers[input] = list = [];
                list.Add(node);
            }
        }
    }

    public NodeProto? Producer(string value) => _producers.GetValueOrDefault(value);

    /// <summary>The producer of <paramref name="value"/> when it is a default-domain node of type <paramref name="opType"/>.</summary>
    public NodeProto? Producer(string value, string opType) =>
        _producers.TryGetValue(value, out var node) && node.OpType == opType && node.Domain is "" or "ai.onnx" ? node : null;

    public IReadOnlyList<NodeProto> Consumers(string value) =>
        _consumers.TryGetValue(value, out var list) ? list : [];

    /// <summary>The only consumer of <paramref name="value"/>, when it has exactly one and is not a graph output.</summary>
    public NodeProto? SoleConsumer(string value) =>
        !_graphOutputs.Contains(value) && _consumers.TryGetValue(value, out var list) && list.Count == 1 ? list[0] : null;

    public bool IsGraphOutput(string value) => _graphOutputs.Contains(value);

    public TensorProto? Initializer(string name) => _initializers.GetValueOrDefault(name);

    /// <summary>The constant tensor behind <paramref name="value"/>: an initializer or a Constant node's value attribute.</summary>
    public TensorProto? Constant(string value)
    {
        if (_initializers.TryGetValue(value, out var tensor)) return tensor;
        var node = Producer(value, "Constant");
        if (node is null) return null;
        foreach (var attribute in node.Attribute)
        {
            if (attribute.Name == "value" && attribute.T is not null) return attribute.T;
            if (attribute.Name == "value_float") return TensorValues.CreateFloat(value, [], [attribute.F], TensorValues.Float);
            if (attribute.Name == "value_int") return TensorValues.CreateInt64(value, [attribute.I]);
            if (attribute.Name == "value_ints") return TensorValues.CreateInt64(value, attribute.Ints.ToArray());
        }
        return null;
    }

    /// <summary>A constant holding one real number (any shape with one element), else null.</summary>
    public float? ScalarConstant(string value)
    {
        var tensor = Constant(value);
        if (tensor is null || TensorValues.ElementCount(tensor) != 1) return null;
        var values = TensorValues.ReadFloats(Document, tensor);
        return values is { Length: 1 } ? values[0] : null;
    }

    public float[]? FloatConstant(string value)
    {
        var tensor = Constant(value);
        return tensor is null ? null : TensorValues.ReadFloats(Document, tensor);
    }

    public long[]? Int64Constant(string value)
    {
        var tensor = Constant(value);
        return tensor is null ? null : TensorValues.ReadInt64s(Document, tensor);
    }

    /// <summary>
    /// The values of a 1-D shape tensor: a constant, or a Concat of one-element constants and computed parts (the
    /// computed parts, e.g. a batch size read with Shape/Gather, come back as null entries).
    /// </summary>
    public long?[]? ShapeValues(string value)
    {
        if (Int64Constant(value) is { } constant) return Array.ConvertAll(constant, v => (long?)v);
        var concat = Producer(value, "Concat");
        if (concat is null) return null;
        var result = new List<long?>();
        foreach (var part in concat.Input)
        {
            var values = Int64Constant(part);
            if (values is not null) foreach (var v in values) result.Add(v);
            else result.Add(null); // a computed part: assume one element (Unsqueeze of a gathered dimension)
        }
        return result.ToArray();
    }

    public static long? IntAttribute(NodeProto node, string name)
    {
        foreach (var attribute in node.Attribute)
            if (attribute.Name == name) return attribute.I;
        return null;
    }

    public static float? FloatAttribute(NodeProto node, string name)
    {
        foreach (var attribute in node.Attribute)
            if (attribute.Name == name) return attribute.F;
        return null;
    }

    public static long[]? IntsAttribute(NodeProto node, string name)
    {
        foreach (var attribute in node.Attribute)
            if (attribute.Name == name) return attribute.Ints.ToArray();
        return null;
    }

    /// <summary>A name no value, node or initializer of the graph has yet.</summary>
    public string UniqueName(string stem)
    {
        while (true)
        {
            var name = $"{stem}_{(_nameCounter++).ToString(CultureInfo.InvariantCulture)}";
            if (_names.Add(name)) return name;
        }
    }

    public void AddInitializer(TensorProto tensor)
    {
        Graph.Initializer.Add(tensor);
        _initializers[tensor.Name] = tensor;
        _names.Add(tensor.Name);
    }

    /// <summary>Makes sure the model imports the com.microsoft opset (version 1) its fused operators belong to.</summary>
    public void ImportMicrosoftDomain()
    {
        foreach (var opset in Document.Model.OpsetImport)
            if (opset.Domain == MicrosoftDomain) return;
        Document.Model.OpsetImport.Add(new OperatorSetIdProto { Domain = MicrosoftDomain, Version = 1 });
    }

    /// <summary>
    /// Replaces <paramref name="replaced"/> (which produced the fused subgraph's output) by <paramref name="nodes"/>,
    /// in its place, so the node list stays topologically sorted. Nodes of the subgraph that nothing uses any more are
    /// removed later by <see cref="PruneUnused"/>.
    /// </summary>
    public void Replace(NodeProto replaced, params NodeProto[] nodes)
    {
        var index = Graph.Node.IndexOf(replaced);
        if (index < 0) throw new InvalidOperationException($"node '{replaced.Name}' is not in the graph");
        Graph.Node.RemoveAt(index);
        for (var i = 0; i < nodes.Length; i++) Graph.Node.Insert(index + i, nodes[i]);
    }

    /// <summary>
    /// Removes nodes none of whose outputs are used (by a node or as a graph output), repeatedly, then initializers no
    /// node uses; returns the number of nodes removed.
    /// </summary>
    public int PruneUnused()
    {
        var removed = 0;
        while (true)
        {
            Refresh();
            var dead = new List<int>();
            for (var i = 0; i < Graph.Node.Count; i++)
            {
                var node = Graph.Node[i];
                var used = false;
                foreach (var output in node.Output)
                {
                    if (output.Length > 0 && (_graphOutputs.Contains(output) || _consumers.ContainsKey(output)))
                    {
                        used = true;
                        break;
                    }
                }
                if (!used) dead.Add(i);
            }
            if (dead.Count == 0) break;
            for (var i = dead.Count - 1; i >= 0; i--) Graph.Node.RemoveAt(dead[i]);
            removed += dead.Count;
        }
        for (var i = Graph.Initializer.Count - 1; i >= 0; i--)
        {
            var name = Graph.Initializer[i].Name;
            if (!_consumers.ContainsKey(name) && !_graphOutputs.Contains(name)) Graph.Initializer.RemoveAt(i);
        }
        // Shapes recorded for removed intermediate values would only confuse later tools.
        var live = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in Graph.Node) foreach (var output in node.Output) live.Add(output);
        for (var i = Graph.ValueInfo.Count - 1; i >= 0; i--)
            if (!live.Contains(Graph.ValueInfo[i].Name)) Graph.ValueInfo.RemoveAt(i);
        Refresh();
        return removed;
    }

    public static NodeProto Node(string opType, string name, string[] inputs, string[] outputs, string domain = "", params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = name, Domain = domain };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }
}
