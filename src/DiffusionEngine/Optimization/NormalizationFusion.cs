using Onnx;

namespace DiffusionEngine.Optimization;

/// <summary>
/// Normalisation patterns:
/// <list type="bullet">
/// <item>LayerNorm written out by opset &lt; 17 exporters — ReduceMean → Sub → Pow 2 (or Mul by itself) → ReduceMean → Add ε
/// → Sqrt → Div → Mul γ → Add β over the last axis — into <c>LayerNormalization</c> (every provider; an ONNX operator from
/// opset 17, and registered by ONNX Runtime for the earlier opsets too, which is what its own optimizer emits there);</item>
/// <item>GroupNorm as PyTorch exports it — Reshape[0, G, -1] → InstanceNormalization(scale 1, bias 0) → Reshape(Shape(x))
/// → Mul γ[C,1,1] → Add β[C,1,1], optionally followed by SiLU — into <c>com.microsoft.GroupNorm</c> (NHWC, with its
/// activation), which only the CUDA provider implements: so only when optimising for CUDA. The layout change is two
/// Transposes around it. Only SD's sizes (32 groups; 128–2560 channels) are fused, the ones ONNX Runtime's diffusion
/// kernels are written for.</item>
/// </list>
/// </summary>
internal static class NormalizationFusion
{
    private static readonly HashSet<long> GroupNormChannels = [128, 256, 320, 384, 448, 512, 640, 768, 896, 960, 1024, 1280, 1920, 2048, 2560];

    public static int FuseLayerNorm(GraphIndex graph)
    {
        var fused = 0;
        foreach (var mean in graph.Graph.Node.Where(n => n.OpType == "ReduceMean" && n.Domain is "" or "ai.onnx").ToList())
        {
            var x = mean.Input[0];
            if (!LastAxis(graph, mean)) continue;
            // Sub(x, mean) feeds both the variance and the Div.
            var sub = graph.Consumers(mean.Output[0]).FirstOrDefault(n => n.OpType == "Sub" && n.Input[0] == x && n.Input[1] == mean.Output[0]);
            if (sub is null || graph.Consumers(mean.Output[0]).Count != 1) continue;
            var subUsers = graph.Consumers(sub.Output[0]);
            if (subUsers.Count != 2) continue;
            var square = subUsers.FirstOrDefault(n =>
                n.OpType == "Pow" && graph.ScalarConstant(n.Input[1]) == 2f ||
                n.OpType == "Mul" && n.Input[0] == sub.Output[0] && n.Input[1] == sub.Output[0]);
            var divide = subUsers.FirstOrDefault(n => n.OpType == "Div" && n.Input[0] == sub.Output[0]);
            if (square is null || divide is null) continue;
            if (graph.SoleConsumer(square.Output[0]) is not { OpType: "ReduceMean" } variance || !LastAxis(graph, variance)) continue;
            if (graph.SoleConsumer(variance.Output[0]) is not { OpType: "Add" } addEpsilon) continue;
            var epsilonInput = addEpsilon.Input[0] == variance.Output[0] ? addEpsilon.Input[1] : addEpsilon.Input[0];
            if (graph.ScalarConstant(epsilonInput) is not { } epsilon) continue;
            if (graph.SoleConsumer(addEpsilon.Output[0]) is not { OpType: "Sqrt" } sqrt || divide.Input[1] != sqrt.Output[0]) continue;
            if (graph.SoleConsumer(divide.Output[0]) is not { OpType: "Mul" } scale) continue;
            var gamma = scale.Input[0] == divide.Output[0] ? scale.Input[1] : scale.Input[0];
            if (graph.Constant(gamma) is not { Dims.Count: 1 }) continue;
            if (graph.SoleConsumer(scale.Output[0]) is not { OpType: "Add" } shift) continue;
            var beta = shift.Input[0] == scale.Output[0] ? shift.Input[1] : shift.Input[0];
            if (graph.Constant(beta) is not { Dims.Count: 1 }) continue;

            var node = GraphIndex.Node("LayerNormalization", graph.UniqueName("LayerNormalization"), [x, gamma, beta], [shift.Output[0]], "",
                GraphIndex.Int("axis", -1), GraphIndex.Float("epsilon", epsilon));
            graph.Replace(shift, node);
            graph.Refresh();
            fused++;
        }
        if (fused > 0) graph.PruneUnused();
        return fused;
    }

    /// <summary>Returns (GroupNorm count, of which with SiLU fused in).</summary>
    public static (int GroupNorm, int WithSilu) FuseGroupNorm(GraphIndex graph)
    {
        int fused = 0, withSilu = 0;
        foreach (var norm in graph.Graph.Node.Where(n => n.OpType == "InstanceNormalization" && n.Domain is "" or "ai.onnx").ToList())
        {
            if (graph.Producer(norm.Input[0], "Reshape") is not { } grouped) continue;
            var x = grouped.Input[0];
            if (graph.Int64Constant(grouped.Input[1]) is not [0, var groups, -1]) continue;
            if (graph.FloatConstant(norm.Input[1]) is not { } ones || ones.Any(v => v != 1f)) continue;
            if (graph.FloatConstant(norm.Input[2]) is not { } zeros || zeros.Any(v => v != 0f)) continue;
            if (graph.SoleConsumer(norm.Output[0]) is not { OpType: "Reshape" } restore) continue;
            if (graph.Producer(restore.Input[1], "Shape") is not { } shape || shape.Input[0] != x || shape.Attribute.Count > 0) continue;
            if (graph.SoleConsumer(restore.Output[0]) is not { OpType: "Mul" } scale) continue;
            var gammaName = scale.Input[0] == restore.Output[0] ? scale.Input[1] : scale.Input[0];
            if (graph.SoleConsumer(scale.Output[0]) is not { OpType: "Add" } shift) continue;
            var betaName = shift.Input[0] == scale.Output[0] ? shift.Input[1] : shift.Input[0];
            var gamma = graph.Constant(gammaName);
            var beta = graph.Constant(betaName);
            if (gamma is null || beta is null || !IsChannelColumn(gamma) || !IsChannelColumn(beta) || gamma.Dims[0] != beta.Dims[0]) continue;
            var channels = gamma.Dims[0];
            if (groups != 32 || !GroupNormChannels.Contains(channels)) continue;

            // SiLU after it: Add → Sigmoid and Mul(add, sigmoid).
            var last = shift;
            var users = graph.Consumers(shift.Output[0]);
            var activation = 0L;
            if (!graph.IsGraphOutput(shift.Output[0]) && users.Count == 2
                && users.FirstOrDefault(n => n.OpType == "Sigmoid") is { } sigmoid
                && users.FirstOrDefault(n => n.OpType == "Mul") is { } swish
                && swish.Input.Contains(sigmoid.Output[0]) && graph.SoleConsumer(sigmoid.Output[0]) == swish)
            {
                last = swish;
                activation = 1;
            }

            var gammaValues = TensorValues.ReadFloats(graph.Document, gamma)!;
            var betaValues = TensorValues.ReadFloats(graph.Document, beta)!;
            var gammaFlat = graph.UniqueName("GroupNorm_gamma");
            var betaFlat = graph.UniqueName("GroupNorm_beta");
            graph.AddInitializer(TensorValues.CreateFloat(gammaFlat, [channels], gammaValues, TensorValues.Float));
            graph.AddInitializer(TensorValues.CreateFloat(betaFlat, [channels], betaValues, TensorValues.Float));
            var nhwc = graph.UniqueName("GroupNorm_nhwc");
            var normalized = graph.UniqueName("GroupNorm_out");
            var epsilon = GraphIndex.FloatAttribute(norm, "epsilon") ?? 1e-5f;
            graph.Replace(last,
                GraphIndex.Node("Transpose", graph.UniqueName("Transpose"), [x], [nhwc], "", GraphIndex.Ints("perm", 0, 2, 3, 1)),
                GraphIndex.Node("GroupNorm", graph.UniqueName("GroupNorm"), [nhwc, gammaFlat, betaFlat], [normalized], GraphIndex.MicrosoftDomain,
                    GraphIndex.Int("activation", activation), GraphIndex.Int("channels_last", 1),
                    GraphIndex.Float("epsilon", epsilon), GraphIndex.Int("groups", groups)),
                GraphIndex.Node("Transpose", graph.UniqueName("Transpose"), [normalized], [last.Output[0]], "", GraphIndex.Ints("perm", 0, 3, 1, 2)));
            graph.Refresh();
            fused++;
            withSilu += (int)activation;
        }
        if (fused > 0)
        {
            graph.ImportMicrosoftDomain();
            graph.PruneUnused();
        }
        return (fused, withSilu);
    }

    private static bool IsChannelColumn(TensorProto tensor) =>
        tensor.Dims.Count == 3 && tensor.Dims[1] == 1 && tensor.Dims[2] == 1 || tensor.Dims.Count == 1;

    /// <summary>ReduceMean over the last axis only, keeping dims (axes as an attribute before opset 18, an input from 18).</summary>
    private static bool LastAxis(GraphIndex graph, NodeProto mean)
    {
        if (GraphIndex.IntAttribute(mean, "keepdims") == 0) return false;
        var axes = GraphIndex.IntsAttribute(mean, "axes") ?? (mean.Input.Count > 1 ? graph.Int64Constant(mean.Input[1]) : null);
        return axes is [-1];
    }
}
