using System.Globalization;
using System.Text;

namespace DiffusionEngine.TinyModel.Onnx;

/// <summary>
/// Builds an <see cref="OnnxGraph"/> node by node. Names follow diffusers' module paths through nested
/// <see cref="Scope"/>s ("down_blocks.0.resnets.0.conv1.weight"), and each learned weight's pseudo-random values are
/// seeded from its full name, so the graph is deterministic and independent of construction order.
/// Weights are stored as <see cref="WeightType"/> and computed on as <see cref="ComputeType"/>; when they differ, a Cast
/// follows each weight (e.g. float16 storage with float32 arithmetic).
/// </summary>
internal sealed class GraphBuilder(string graphName, OnnxElementType computeType, OnnxElementType weightType, ulong seed)
{
    private readonly List<OnnxNode> _nodes = [];
    private readonly List<OnnxInitializer> _initializers = [];
    private readonly List<OnnxValueInfo> _inputs = [];
    private readonly List<OnnxValueInfo> _outputs = [];
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private readonly List<string> _scopes = [];
    private int _nodeCounter;

    public OnnxElementType ComputeType { get; } = computeType;

    public OnnxElementType WeightType { get; } = weightType;

    /// <summary>Enters a naming scope; dispose the result to leave it.</summary>
    public IDisposable Scope(string name)
    {
        _scopes.Add(name);
        return new ScopeExit(_scopes);
    }

    /// <summary>Declares a graph input and returns its value name.</summary>
    public string Input(string name, OnnxElementType type, params OnnxDimension[] shape)
    {
        _inputs.Add(new OnnxValueInfo(name, type, shape));
        return name;
    }

    /// <summary>Declares <paramref name="value"/> as the graph output <paramref name="name"/>, cast to <paramref name="type"/> if needed.</summary>
    public void Output(string value, string name, OnnxElementType type, params OnnxDimension[] shape)
    {
        if (type == ComputeType || !OnnxElementTypes.IsFloatingPoint(type))
            AddNode("Identity", [value], [name], []);
        else
            AddNode("Cast", [value], [name], [OnnxAttribute.Int("to", (long)type)]);
        _outputs.Add(new OnnxValueInfo(name, type, shape));
    }

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Op(string opType, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes) =>
        Op(opType, inputs, 1, attributes)[0];

    /// <summary>Adds a node with <paramref name="outputCount"/> outputs and returns their names.</summary>
    public string[] Op(string opType, IReadOnlyList<string> inputs, int outputCount, params OnnxAttribute[] attributes)
    {
        var baseName = $"{ScopePrefix('/')}{opType}_{_nodeCounter.ToString(CultureInfo.InvariantCulture)}";
        var outputs = new string[outputCount];
        for (var i = 0; i < outputCount; i++)
            outputs[i] = outputCount == 1 ? baseName : $"{baseName}:{i.ToString(CultureInfo.InvariantCulture)}";
        AddNode(opType, inputs, outputs, attributes);
        return outputs;
    }

    /// <summary>Casts a value to the compute type (no node when it already is).</summary>
    public string ToCompute(string value, OnnxElementType valueType) =>
        valueType == ComputeType ? value : Op("Cast", [value], OnnxAttribute.Int("to", (long)ComputeType));

    /// <summary>
    /// A learned weight of shape <paramref name="dims"/> with values uniform in center ± bound, named
    /// "&lt;scope&gt;.<paramref name="localName"/>"; returns a value of the compute type.
    /// </summary>
    public string Parameter(string localName, long[] dims, float bound, float center = 0f)
    {
        var name = ScopePrefix('.') + localName;
        var data = new UniformRandomTensorData(seed ^ Fnv1a64(name), bound, center);
        _initializers.Add(new OnnxInitializer(name, WeightType, dims, data, IsParameter: true));
        return ToCompute(name, WeightType);
    }

    /// <summary>An int64 constant (shapes, axes), shared between all users of the same values.</summary>
    public string Int64Constant(params long[] values)
    {
        var key = "const_i64[" + string.Join(",", values) + "]";
        if (_constants.TryGetValue(key, out var existing)) return existing;
        _initializers.Add(new OnnxInitializer(key, OnnxElementType.Int64, [values.Length], new Int64ArrayTensorData(values), IsParameter: false));
        _constants[key] = key;
        return key;
    }

    /// <summary>A scalar constant of the compute type, shared between all users of the same value.</summary>
    public string Scalar(float value)
    {
        var key = "const_scalar[" + value.ToString("R", CultureInfo.InvariantCulture) + "]";
        if (_constants.TryGetValue(key, out var existing)) return existing;
        _initializers.Add(new OnnxInitializer(key, ComputeType, [], new FloatArrayTensorData([value]), IsParameter: false));
        _constants[key] = key;
        return key;
    }

    /// <summary>A 1-D float32 constant shared under one name (Resize scales must be float32 whatever the compute type).</summary>
    public string SharedFloat32Constant(string name, float[] values)
    {
        if (_constants.TryGetValue(name, out var existing)) return existing;
        _initializers.Add(new OnnxInitializer(name, OnnxElementType.Float, [values.Length], new FloatArrayTensorData(values), IsParameter: false));
        _constants[name] = name;
        return name;
    }

    /// <summary>A structural real-valued constant (a mask, a frequency table) stored as <paramref name="type"/>.</summary>
    public string FloatConstant(string localName, long[] dims, float[] values, OnnxElementType type)
    {
        var name = ScopePrefix('.') + localName;
        _initializers.Add(new OnnxInitializer(name, type, dims, new FloatArrayTensorData(values), IsParameter: false));
        return name;
    }

    /// <summary>A structural constant with every element <paramref name="value"/>, of the compute type.</summary>
    public string FilledConstant(string localName, long[] dims, float value)
    {
        var name = ScopePrefix('.') + localName;
        _initializers.Add(new OnnxInitializer(name, ComputeType, dims, new FilledTensorData(value), IsParameter: false));
        return name;
    }

    public OnnxGraph Build() => new(graphName, _nodes.ToArray(), _initializers.ToArray(), _inputs.ToArray(), _outputs.ToArray());

    private void AddNode(string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, IReadOnlyList<OnnxAttribute> attributes)
    {
        _nodes.Add(new OnnxNode(outputs[0] + "_node", opType, inputs, outputs, attributes));
        _nodeCounter++;
    }

    private string ScopePrefix(char separator)
    {
        if (_scopes.Count == 0) return "";
        var builder = new StringBuilder();
        foreach (var scope in _scopes) builder.Append(scope).Append(separator);
        return builder.ToString();
    }

    /// <summary>FNV-1a 64-bit hash of the UTF-8 name: a stable per-weight seed (string.GetHashCode is randomised per process).</summary>
    private static ulong Fnv1a64(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        return hash;
    }

    private sealed class ScopeExit(List<string> scopes) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            scopes.RemoveAt(scopes.Count - 1);
        }
    }
}
