using Onnx;

namespace DiffusionEngine.Optimization;

/// <summary>
/// Converts a float32 graph to float16 compute the way ONNX Runtime's float16 converter does, with the graph's inputs
/// and outputs kept float32 (a Cast after each float input, before each float output) so callers bind the same tensors:
/// <list type="bullet">
/// <item>float32 initializers used by converted nodes become float16 (a float32 copy is kept for kept nodes);</item>
/// <item>Cast(to float32) nodes in converted regions cast to float16 instead; float Constants become float16;</item>
/// <item>operators without float16 kernels or with numerically fragile float16 results stay float32, with Casts around
/// them: ONNX Runtime's default block list (the ai.onnx.ml operators, Resize/Upsample, Range, CumSum, Min/Max, TopK,
/// NonMaxSuppression, RoiAlign, RandomUniformLike), plus Sin/Cos, ArgMax/ArgMin and every element-wise node that only
/// feeds kept nodes (the sinusoidal timestep embedding multiplies t ≤ 999 by frequencies: in float16 the angle would be
/// off by up to a quarter turn; token ids cast to float for an arg-max would round into ties above 2048).</item>
/// </list>
/// Element types are tracked through the graph by each operator's typing rule (<see cref="ElementTypes"/>).
/// </summary>
internal static class Float16Conversion
{
    private const int Float = TensorValues.Float;
    private const int Half = TensorValues.Float16;

    private static readonly HashSet<string> DefaultBlockList =
    [
        "ArrayFeatureExtractor", "Binarizer", "CastMap", "CategoryMapper", "DictVectorizer", "FeatureVectorizer", "Imputer",
        "LabelEncoder", "LinearClassifier", "LinearRegressor", "Normalizer", "OneHotEncoder", "RandomUniformLike",
        "SVMClassifier", "SVMRegressor", "Scaler", "TreeEnsembleClassifier", "TreeEnsembleRegressor", "ZipMap",
        "NonMaxSuppression", "TopK", "RoiAlign", "Resize", "Range", "CumSum", "Min", "Max", "Upsample",
        // Fragile in float16 here: the timestep embedding's angles; arg-max over token ids cast to float (CLIP's
        // pooled output), which float16 would round into ties above 2048.
        "Sin", "Cos", "ArgMax", "ArgMin",
    ];

    /// <summary>Element-wise or shape-only operators that are kept float32 when everything they feed is kept.</summary>
    private static readonly HashSet<string> FollowsConsumers =
        ["Mul", "Div", "Add", "Sub", "Cast", "Unsqueeze", "Reshape", "Expand", "Squeeze", "Neg", "Exp", "Concat"];

    /// <summary>Returns (nodes converted, nodes kept float32 by op type).</summary>
    public static (int Converted, Dictionary<string, int> Kept) Apply(GraphIndex graph)
    {
        var nodes = graph.Graph.Node;
        var kept = KeptNodes(graph);
        var types = ElementTypes.Infer(graph);

        // value name → its float16 (or float32) twin, created at most once.
        var halfOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var floatOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var isHalf = new HashSet<string>(StringComparer.Ordinal);
        var newNodes = new List<NodeProto>(nodes.Count + 64);

        // Graph inputs stay float32: a Cast to float16 after each.
        foreach (var input in graph.Graph.Input)
        {
            if (graph.Initializer(input.Name) is not null || types.GetValueOrDefault(input.Name) != Float) continue;
            var half = graph.UniqueName(input.Name + "_fp16");
            newNodes.Add(Cast(graph, input.Name, half, Half));
            halfOf[input.Name] = half;
            isHalf.Add(half);
        }

        // Initializers: float32 ones used by converted nodes get a float16 twin (the same tensor when no kept node uses it).
        var keptUse = new HashSet<string>(StringComparer.Ordinal);
        var convertedUse = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in nodes)
            foreach (var input in node.Input)
                (kept.Contains(node) ? keptUse : convertedUse).Add(input);
        foreach (var tensor in graph.Graph.Initializer.ToList())
        {
            if (tensor.DataType != Float || !convertedUse.Contains(tensor.Name)) continue;
            if (keptUse.Contains(tensor.Name) || graph.IsGraphOutput(tensor.Name))
            {
                var twin = graph.Document.AddCopyOf(tensor, graph.UniqueName(tensor.Name + "_fp16"));
                graph.Document.MarkForFloat16(twin);
                halfOf[tensor.Name] = twin.Name;
                isHalf.Add(twin.Name);
            }
            else
            {
                graph.Document.MarkForFloat16(tensor);
                isHalf.Add(tensor.Name);
            }
        }

        var converted = 0;
        var keptCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            var keep = kept.Contains(node);
            for (var i = 0; i < node.Input.Count; i++)
            {
                var input = node.Input[i];
                if (input.Length == 0) continue;
                var inputIsHalf = isHalf.Contains(input);
                var inputIsFloat = !inputIsHalf && types.GetValueOrDefault(input) == Float;
                if (!keep && inputIsFloat && AcceptsHalf(node, i))
                {
                    if (!halfOf.TryGetValue(input, out var half))
                    {
                        half = graph.UniqueName(input + "_fp16");
                        newNodes.Add(Cast(graph, input, half, Half));
                        halfOf[input] = half;
                        isHalf.Add(half);
                    }
                    node.Input[i] = half;
                }
                else if ((keep || !AcceptsHalf(node, i)) && inputIsHalf)
                {
                    if (!floatOf.TryGetValue(input, out var single))
                    {
                        single = graph.UniqueName(input + "_fp32");
                        newNodes.Add(Cast(graph, input, single, Float));
                        floatOf[input] = single;
                    }
                    node.Input[i] = single;
                }
            }
            if (keep)
            {
                keptCounts[node.OpType] = keptCounts.GetValueOrDefault(node.OpType) + 1;
            }
            else
            {
                ConvertNode(graph, node, types, isHalf);
                converted++;
            }
            newNodes.Add(node);
        }

        // Graph outputs stay float32: the producer writes a float16 twin, a Cast writes the output itself.
        foreach (var output in graph.Graph.Output)
        {
            if (!isHalf.Contains(output.Name)) continue;
            var half = graph.UniqueName(output.Name + "_fp16");
            foreach (var node in newNodes)
            {
                for (var i = 0; i < node.Output.Count; i++) if (node.Output[i] == output.Name) node.Output[i] = half;
                for (var i = 0; i < node.Input.Count; i++) if (node.Input[i] == output.Name) node.Input[i] = half;
            }
            newNodes.Add(Cast(graph, half, output.Name, Float));
        }

        nodes.Clear();
        nodes.AddRange(newNodes);
        graph.Graph.ValueInfo.Clear(); // intermediate types changed; ONNX Runtime infers them again
        graph.PruneUnused();
        return (converted, keptCounts);
    }

    /// <summary>
    /// After the node's float inputs are float16: float outputs become float16, a Cast to float32 casts to float16, a
    /// float Constant holds float16.
    /// </summary>
    private static void ConvertNode(GraphIndex graph, NodeProto node, Dictionary<string, int> types, HashSet<string> isHalf)
    {
        if (node.OpType == "Cast" && node.Domain is "" or "ai.onnx")
        {
            foreach (var attribute in node.Attribute)
                if (attribute.Name == "to" && attribute.I == Float) attribute.I = Half;
        }
        if (node.OpType == "Constant")
        {
            foreach (var attribute in node.Attribute)
            {
                if (attribute.Name == "value" && attribute.T is { DataType: Float } tensor)
                {
                    var values = TensorValues.ReadFloats(graph.Document, tensor)!;
                    attribute.T = TensorValues.CreateFloat(tensor.Name, tensor.Dims.ToArray(), values, Half);
                }
                else if (attribute.Name == "value_float")
                {
                    attribute.Name = "value";
                    attribute.Type = AttributeProto.Types.AttributeType.Tensor;
                    attribute.T = TensorValues.CreateFloat("", [], [attribute.F], Half);
                    attribute.F = 0;
                }
            }
        }
        if (node.OpType == "ConstantOfShape")
        {
            foreach (var attribute in node.Attribute)
                if (attribute.Name == "value" && attribute.T is { DataType: Float } tensor)
                    attribute.T = TensorValues.CreateFloat(tensor.Name, tensor.Dims.ToArray(), TensorValues.ReadFloats(graph.Document, tensor)!, Half);
        }
        foreach (var output in node.Output)
        {
            if (output.Length > 0 && types.GetValueOrDefault(output) == Float) isHalf.Add(output);
        }
    }

    /// <summary>Inputs that the operator's schema requires to be float32 whatever T is (none in the ops SD graphs use outside the block list).</summary>
    private static bool AcceptsHalf(NodeProto node, int inputIndex) =>
        !(node.OpType is "Resize" or "Upsample" && inputIndex >= 1);

    /// <summary>The block list, then every element-wise node all of whose consumers are kept (to a fixed point).</summary>
    private static HashSet<NodeProto> KeptNodes(GraphIndex graph)
    {
        var kept = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);
        foreach (var node in graph.Graph.Node)
            if (node.Domain is "" or "ai.onnx" or "ai.onnx.ml" && DefaultBlockList.Contains(node.OpType)) kept.Add(node);
        if (kept.Count == 0) return kept;
        bool changed;
        do
        {
            changed = false;
            foreach (var node in graph.Graph.Node)
            {
                if (kept.Contains(node) || !FollowsConsumers.Contains(node.OpType)) continue;
                var consumers = node.Output.SelectMany(graph.Consumers).ToList();
                if (consumers.Count == 0 || node.Output.Any(graph.IsGraphOutput)) continue;
                if (consumers.All(kept.Contains))
                {
                    kept.Add(node);
                    changed = true;
                }
            }
        } while (changed);
        return kept;
    }

    private static NodeProto Cast(GraphIndex graph, string input, string output, int to) =>
        GraphIndex.Node("Cast", graph.UniqueName("Cast"), [input], [output], "", GraphIndex.Int("to", to));
}
