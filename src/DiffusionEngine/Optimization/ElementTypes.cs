using Onnx;

namespace DiffusionEngine.Optimization;

/// <summary>
/// The element type (ONNX TensorProto.DataType) of every value in a graph, propagated from the graph inputs and
/// initializers through each operator's typing rule, in node order (ONNX graphs are topologically sorted). Only the
/// rules the float16 conversion needs are written out; everything else takes the type of its first typed input, which
/// is the rule for the element-wise, shape-preserving and normalisation operators SD graphs are made of.
/// </summary>
internal static class ElementTypes
{
    private const int Bool = (int)TensorProto.Types.DataType.Bool;

    public static Dictionary<string, int> Infer(GraphIndex graph)
    {
        var types = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var input in graph.Graph.Input)
            if (input.Type?.TensorType is { } tensor) types[input.Name] = tensor.ElemType;
        foreach (var tensor in graph.Graph.Initializer) types[tensor.Name] = tensor.DataType;

        foreach (var node in graph.Graph.Node)
        {
            var type = OutputType(node, types);
            if (type is null) continue;
            foreach (var output in node.Output)
                if (output.Length > 0) types[output] = type.Value;
            // Operators whose second output differs (LayerNormalization's Mean/InvStdDev are float whatever T is).
            if (node.OpType == "LayerNormalization")
                for (var i = 1; i < node.Output.Count; i++) if (node.Output[i].Length > 0) types[node.Output[i]] = TensorValues.Float;
        }
        return types;
    }

    private static int? OutputType(NodeProto node, Dictionary<string, int> types)
    {
        switch (node.OpType)
        {
            case "Shape" or "Size" or "ArgMax" or "ArgMin" or "NonZero":
                return TensorValues.Int64;
            case "Equal" or "Less" or "Greater" or "LessOrEqual" or "GreaterOrEqual" or "Not" or "And" or "Or" or "Xor" or "IsNaN" or "IsInf":
                return Bool;
            case "Cast":
                return (int?)GraphIndex.IntAttribute(node, "to");
            case "CastLike":
                return node.Input.Count > 1 ? types.GetValueOrDefault(node.Input[1]) : null;
            case "Constant":
                foreach (var attribute in node.Attribute)
                {
                    if (attribute.Name == "value" && attribute.T is not null) return attribute.T.DataType;
                    if (attribute.Name is "value_float" or "value_floats") return TensorValues.Float;
                    if (attribute.Name is "value_int" or "value_ints") return TensorValues.Int64;
                }
                return null;
            case "ConstantOfShape":
                foreach (var attribute in node.Attribute)
                    if (attribute.Name == "value" && attribute.T is not null) return attribute.T.DataType;
                return TensorValues.Float;
            case "Where":
                return node.Input.Count > 1 ? types.GetValueOrDefault(node.Input[1]) : null;
            case "RandomNormal" or "RandomUniform" or "EyeLike":
                return (int?)GraphIndex.IntAttribute(node, "dtype") ?? TensorValues.Float;
        }
        foreach (var input in node.Input)
            if (input.Length > 0 && types.TryGetValue(input, out var type)) return type;
        return null;
    }
}
