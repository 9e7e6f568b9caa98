using Onnx;

namespace DiffusionEngine.Optimization;

/// <summary>
/// Element-wise activation patterns into the <c>com.microsoft</c> operators both the CPU and the CUDA provider implement:
/// <list type="bullet">
/// <item>exact GELU, 0.5·x·(1 + erf(x/√2)), written with Mul or Div and in any of the three orders exporters produce →
/// <c>Gelu</c>;</item>
/// <item>x·σ(α·x) (CLIP's quick GELU, α = 1.702) and x·σ(x) (SiLU/Swish, α = 1) → <c>QuickGelu</c>(alpha).</item>
/// </list>
/// </summary>
internal static class ActivationFusion
{
    private const float Tolerance = 1e-4f;

    public static int FuseGelu(GraphIndex graph)
    {
        var fused = 0;
        foreach (var erf in graph.Graph.Node.Where(n => n.OpType == "Erf" && n.Domain is "" or "ai.onnx").ToList())
        {
            // x/√2 or x·(1/√2) into Erf.
            string x;
            if (graph.Producer(erf.Input[0], "Div") is { } div && Near(graph.ScalarConstant(div.Input[1]), MathF.Sqrt(2f))) x = div.Input[0];
            else if (graph.Producer(erf.Input[0], "Mul") is { } mul && OtherThanScalar(graph, mul, 1f / MathF.Sqrt(2f)) is { } scaled) x = scaled;
            else continue;
            // erf + 1.
            if (graph.SoleConsumer(erf.Output[0]) is not { OpType: "Add" } plusOne || OtherThanScalar(graph, plusOne, 1f) != erf.Output[0]) continue;
            if (graph.SoleConsumer(plusOne.Output[0]) is not { OpType: "Mul" } product) continue;
            var factor = product.Input[0] == plusOne.Output[0] ? product.Input[1] : product.Input[0];

            NodeProto last;
            if (factor == x)
            {
                // (x·(1 + erf))·0.5
                if (graph.SoleConsumer(product.Output[0]) is not { OpType: "Mul" } half || OtherThanScalar(graph, half, 0.5f) != product.Output[0]) continue;
                last = half;
            }
            else if (graph.Producer(factor, "Mul") is { } halfX && OtherThanScalar(graph, halfX, 0.5f) == x)
            {
                // (0.5·x)·(1 + erf)
                last = product;
            }
            else
            {
                continue;
            }
            var gelu = GraphIndex.Node("Gelu", graph.UniqueName("Gelu"), [x], [last.Output[0]], GraphIndex.MicrosoftDomain);
            graph.Replace(last, gelu);
            graph.Refresh();
            fused++;
        }
        Finish(graph, fused);
        return fused;
    }

    /// <summary>Returns (SiLU count, quick-GELU count).</summary>
    public static (int Silu, int QuickGelu) FuseQuickGelu(GraphIndex graph)
    {
        int silu = 0, quick = 0;
        foreach (var sigmoid in graph.Graph.Node.Where(n => n.OpType == "Sigmoid" && n.Domain is "" or "ai.onnx").ToList())
        {
            if (graph.SoleConsumer(sigmoid.Output[0]) is not { OpType: "Mul" } product) continue;
            var x = product.Input[0] == sigmoid.Output[0] ? product.Input[1] : product.Input[0];
            float alpha;
            if (sigmoid.Input[0] == x)
            {
                alpha = 1f;
            }
            else if (graph.Producer(sigmoid.Input[0], "Mul") is { } scaled && OtherThanScalar(graph, scaled, out var a) == x && graph.SoleConsumer(scaled.Output[0]) is not null)
            {
                alpha = a;
            }
            else
            {
                continue;
            }
            var node = GraphIndex.Node("QuickGelu", graph.UniqueName("QuickGelu"), [x], [product.Output[0]], GraphIndex.MicrosoftDomain,
                GraphIndex.Float("alpha", alpha));
            graph.Replace(product, node);
            graph.Refresh();
            if (alpha == 1f) silu++;
            else quick++;
        }
        Finish(graph, silu + quick);
        return (silu, quick);
    }

    private static void Finish(GraphIndex graph, int fused)
    {
        if (fused == 0) return;
        graph.ImportMicrosoftDomain();
        graph.PruneUnused();
    }

    /// <summary>For a binary node with one scalar-constant input equal to <paramref name="expected"/>, the other input.</summary>
    private static string? OtherThanScalar(GraphIndex graph, NodeProto node, float expected) =>
        OtherThanScalar(graph, node, out var value) is { } other && MathF.Abs(value - expected) <= Tolerance * MathF.Max(1f, MathF.Abs(expected)) ? other : null;

    private static string? OtherThanScalar(GraphIndex graph, NodeProto node, out float value)
    {
        value = 0f;
        if (node.Input.Count != 2) return null;
        if (graph.ScalarConstant(node.Input[1]) is { } right)
        {
            value = right;
            return node.Input[0];
        }
        if (graph.ScalarConstant(node.Input[0]) is { } left)
        {
            value = left;
            return node.Input[1];
        }
        return null;
    }

    private static bool Near(float? value, float expected) =>
        value is { } v && MathF.Abs(v - expected) <= Tolerance * MathF.Max(1f, MathF.Abs(expected));
}
