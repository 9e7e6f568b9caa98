namespace DiffusionEngine.Optimization;

/// <summary>
/// Runs the rewrite passes over one model, in the order their patterns depend on each other: attention first (its
/// Softmax/MatMul chains are the largest), then LayerNorm, GELU, GroupNorm (CUDA; before SiLU is fused on its own, since
/// GroupNorm takes the SiLU after it into itself), quick GELU/SiLU, and last the float16 conversion, which sees the
/// fused operators and keeps them float16.
/// </summary>
internal static class GraphOptimizer
{
    public static ComponentReport Optimize(OnnxModelDocument document, string component, OptimizationOptions options)
    {
        var graph = new GraphIndex(document);
        var nodesBefore = document.Graph.Node.Count;
        var fused = new Dictionary<string, int>(StringComparer.Ordinal);

        var (self, cross, _) = AttentionFusion.Apply(graph);
        Add(fused, "MultiHeadAttention (self)", self);
        Add(fused, "MultiHeadAttention (cross)", cross);
        Add(fused, "LayerNormalization", NormalizationFusion.FuseLayerNorm(graph));
        Add(fused, "Gelu", ActivationFusion.FuseGelu(graph));
        if (options.Target == OptimizationTarget.Cuda)
        {
            var (groupNorms, withSilu) = NormalizationFusion.FuseGroupNorm(graph);
            Add(fused, "GroupNorm", groupNorms - withSilu);
            Add(fused, "GroupNorm+SiLU", withSilu);
        }
        var (silu, quickGelu) = ActivationFusion.FuseQuickGelu(graph);
        Add(fused, "QuickGelu (SiLU)", silu);
        Add(fused, "QuickGelu", quickGelu);

        var left = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in document.Graph.Node)
        {
            if (node.Domain is not ("" or "ai.onnx")) continue;
            var kind = node.OpType switch
            {
                "Softmax" => "Softmax (attention not matched)",
                "Erf" => "Erf (GELU not matched)",
                "InstanceNormalization" => "InstanceNormalization (GroupNorm not fused)",
                _ => null,
            };
            if (kind is not null) left[kind] = left.GetValueOrDefault(kind) + 1;
        }

        var float16Nodes = 0;
        IReadOnlyDictionary<string, int> kept = new Dictionary<string, int>();
        if (options.Float16)
        {
            (float16Nodes, var keptCounts) = Float16Conversion.Apply(graph);
            kept = keptCounts;
        }

        return new ComponentReport
        {
            Component = component,
            NodesBefore = nodesBefore,
            NodesAfter = document.Graph.Node.Count,
            Fused = fused,
            Left = left,
            Float16Nodes = float16Nodes,
            Float32Kept = kept,
        };
    }

    private static void Add(Dictionary<string, int> counts, string kind, int count)
    {
        if (count > 0) counts[kind] = count;
    }
}
