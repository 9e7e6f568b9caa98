namespace DiffusionEngine.TinyModel.Onnx;

/// <summary>A complete ONNX graph held as plain data until <see cref="OnnxModelWriter"/> serialises it.</summary>
internal sealed record OnnxGraph(
    string Name,
    IReadOnlyList<OnnxNode> Nodes,
    IReadOnlyList<OnnxInitializer> Initializers,
    IReadOnlyList<OnnxValueInfo> Inputs,
    IReadOnlyList<OnnxValueInfo> Outputs);

/// <summary>One operator application (NodeProto) in the default ai.onnx domain.</summary>
internal sealed record OnnxNode(
    string Name,
    string OpType,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Outputs,
    IReadOnlyList<OnnxAttribute> Attributes);

/// <summary>A graph input or output (ValueInfoProto with a tensor type).</summary>
internal sealed record OnnxValueInfo(string Name, OnnxElementType ElementType, IReadOnlyList<OnnxDimension> Shape);

/// <summary>A tensor dimension: a fixed size or a named symbolic one (dim_param) such as "batch_size".</summary>
internal readonly record struct OnnxDimension(long Value, string? Parameter)
{
    public static OnnxDimension Fixed(long value) => new(value, null);

    public static OnnxDimension Symbolic(string parameter) => new(0, parameter);

    public static implicit operator OnnxDimension(long value) => Fixed(value);

    public static implicit operator OnnxDimension(string parameter) => Symbolic(parameter);
}

/// <summary>
/// A named constant tensor (TensorProto initializer). The values are produced by <see cref="Data"/> only when
/// the model is written, so even the SD 1.5-sized graph is cheap to build and its weights stream to disk.
/// <see cref="IsParameter"/> is true for learned weights (counted as model parameters), false for structural
/// constants such as shapes and masks.
/// </summary>
internal sealed record OnnxInitializer(
    string Name,
    OnnxElementType ElementType,
    IReadOnlyList<long> Dims,
    TensorData Data,
    bool IsParameter)
{
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (var dim in Dims) count *= dim;
            return count;
        }
    }
}
