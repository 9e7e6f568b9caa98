using Onnx;

namespace DiffusionEngine.Optimization;

/// <summary>
/// Rewrites scaled dot-product attention subgraphs into one <c>com.microsoft.MultiHeadAttention</c> (CPU and CUDA
/// kernels; neither materialises the [batch·heads, S, L] score matrix on its flash/memory-efficient paths).
/// Matched, starting from each Softmax over the last axis (the layouts PyTorch exporters produce for diffusers' UNet/VAE
/// attention and transformers' CLIP attention):
/// <code>
/// q: X_q ─(Mul s)?─ Reshape[·,·,N,H] ─ Transpose(0,2,1,3) ─(Reshape[B·N,S,H])? ─(Mul|Div s)?─┐
/// k: X_k ─(Mul s)?─ Reshape[·,·,N,H] ─ Transpose(0,2,3,1) | Transpose(0,2,1,3)+Transpose(…,3,2) | … ─(Mul|Div s)?─ MatMul ─(Mul|Div s)?─(Add mask)?─ Softmax ─ MatMul ─ Transpose(0,2,1,3) ─ Reshape[·,·,N·H]
/// v: X_v ─ Reshape[·,·,N,H] ─ Transpose(0,2,1,3) ─(Reshape[B·N,L,H])? ──────────────────────────────────────────────┘
/// </code>
/// Every scale on the way multiplies into the fused node's <c>scale</c>; PyTorch 2's SDPA export, whose q and k scales
/// are computed from the shape (Sqrt(1/Sqrt(H))), counts as 1/√H. A constant additive mask becomes the
/// <c>attention_bias</c> input ([1, 1, S, L]); a computed mask is left unfused. The projections X_q/X_k/X_v become the fused node's query/key/value;
/// anything else is left as it was and counted as unmatched.
/// </summary>
internal static class AttentionFusion
{
    /// <summary>Fuses what matches; returns the number of self- and cross-attention subgraphs fused.</summary>
    public static (int Self, int Cross, int Unmatched) Apply(GraphIndex graph)
    {
        int self = 0, cross = 0, unmatched = 0;
        foreach (var softmax in graph.Graph.Node.Where(n => n.OpType == "Softmax" && n.Domain is "" or "ai.onnx").ToList())
        {
            var match = Match(graph, softmax);
            if (match is null)
            {
                unmatched++;
                continue;
            }
            Rewrite(graph, match);
            if (ProjectedInput(graph, match.Query) == ProjectedInput(graph, match.Key)) self++;
            else cross++;
        }
        if (self + cross > 0)
        {
            graph.ImportMicrosoftDomain();
            graph.PruneUnused();
        }
        return (self, cross, unmatched);
    }

    private sealed record AttentionMatch(string Query, string Key, string Value, string? Mask, int Heads, int HeadSize, float Scale, NodeProto Output);

    private sealed record HeadSplit(string Source, long Heads, long HeadSize, float Scale, bool ShapeScaled);

    private static AttentionMatch? Match(GraphIndex graph, NodeProto softmax)
    {
        // 1. Scores: Softmax over the last axis of (MatMul(q, k) · s + mask).
        var axis = GraphIndex.IntAttribute(softmax, "axis") ?? (graph.OpsetVersion >= 13 ? -1 : 1);
        var scores = softmax.Input[0];
        string? mask = null;
        var scale = 1f;
        var shapeScaled = 0;
        if (graph.Producer(scores, "Add") is { } add)
        {
            // The mask is whichever side does not lead to the q·k MatMul.
            var (chain, other) = LeadsToMatMul(graph, add.Input[0]) ? (add.Input[0], add.Input[1]) : (add.Input[1], add.Input[0]);
            if (!LeadsToMatMul(graph, chain) || graph.SoleConsumer(add.Output[0]) is null) return null;
            mask = other;
            scores = chain;
        }
        if (!TakeScale(graph, ref scores, ref scale, ref shapeScaled)) return null;
        var qk = graph.Producer(scores, "MatMul");
        if (qk is null || graph.SoleConsumer(qk.Output[0]) is null) return null;

        // 2. probs·v, then the heads merged back: Transpose(0,2,1,3) → Reshape[·,·,C] (3-D layouts reshape to 4-D first).
        if (graph.SoleConsumer(softmax.Output[0]) is not { OpType: "MatMul" } pv || pv.Input[0] != softmax.Output[0]) return null;
        var merged = graph.SoleConsumer(pv.Output[0]);
        var rank = 4;
        if (merged?.OpType == "Reshape")
        {
            rank = 3;
            merged = graph.SoleConsumer(merged.Output[0]);
        }
        if (merged is not { OpType: "Transpose" } || !HasPerm(merged, 0, 2, 1, 3)) return null;
        var output = graph.SoleConsumer(merged.Output[0]);
        if (output is not { OpType: "Reshape" }) return null;
        if (axis != -1 && axis != rank - 1) return null;

        // 3. The three head splits.
        var q = SplitQuery(graph, qk.Input[0], rank);
        var k = SplitKey(graph, qk.Input[1], rank);
        var v = SplitValue(graph, pv.Input[1], rank);
        if (q is null || k is null || v is null) return null;
        if (q.Heads != k.Heads || q.Heads != v.Heads || q.HeadSize != k.HeadSize || q.Heads <= 0 || q.HeadSize <= 0) return null;
        if (graph.ShapeValues(output.Input[1]) is not { Length: 3 } outShape || outShape[2] is { } channels && channels != -1 && channels != v.Heads * v.HeadSize)
            return null;

        // 4. The scale: every constant factor met, and 1/√H for each of SDPA's shape-computed q and k factors.
        scale *= q.Scale * k.Scale;
        shapeScaled += (q.ShapeScaled ? 1 : 0) + (k.ShapeScaled ? 1 : 0);
        if (shapeScaled is 1 or > 2) return null; // SDPA scales both q and k; one alone is not a pattern we know
        if (shapeScaled == 2) scale /= MathF.Sqrt(q.HeadSize);

        if (mask is not null)
        {
            mask = AttentionBias(graph, mask);
            if (mask is null) return null;
        }
        return new AttentionMatch(q.Source, k.Source, v.Source, mask, (int)q.Heads, (int)q.HeadSize, scale, output);
    }

    private static void Rewrite(GraphIndex graph, AttentionMatch match)
    {
        var name = graph.UniqueName("MultiHeadAttention");
        string[] inputs = match.Mask is null
            ? [match.Query, match.Key, match.Value]
            : [match.Query, match.Key, match.Value, "", "", match.Mask];
        var node = GraphIndex.Node("MultiHeadAttention", name, inputs, [match.Output.Output[0]], GraphIndex.MicrosoftDomain,
            GraphIndex.Int("num_heads", match.Heads), GraphIndex.Float("scale", match.Scale));
        graph.Replace(match.Output, node);
        graph.Refresh();
    }

    /// <summary>The tensor a projection (MatMul, or MatMul + bias) multiplies: the same for q and k in self-attention.</summary>
    private static string? ProjectedInput(GraphIndex graph, string projection)
    {
        var node = graph.Producer(projection);
        if (node is { OpType: "Add" }) node = graph.Producer(node.Input[0], "MatMul") ?? graph.Producer(node.Input[1], "MatMul");
        return node?.Input[0];
    }

    /// <summary>Whether <paramref name="value"/> is MatMul(…) possibly behind Mul/Div by a scale.</summary>
    private static bool LeadsToMatMul(GraphIndex graph, string value)
    {
        var scale = 1f;
        var shapeScaled = 0;
        return TakeScale(graph, ref value, ref scale, ref shapeScaled) && graph.Producer(value, "MatMul") is not null;
    }

    /// <summary>
    /// Steps over Mul/Div nodes by a scalar (or by a shape-computed SDPA scale) above <paramref name="value"/>,
    /// folding constants into <paramref name="scale"/>; false when a Mul/Div by something else is in the way.
    /// </summary>
    private static bool TakeScale(GraphIndex graph, ref string value, ref float scale, ref int shapeScaled)
    {
        while (true)
        {
            var node = graph.Producer(value);
            if (node is null || node.Domain is not ("" or "ai.onnx") || node.OpType is not ("Mul" or "Div")) return true;
            if (graph.SoleConsumer(node.Output[0]) is null) return true;
            if (node.OpType == "Div")
            {
                if (graph.ScalarConstant(node.Input[1]) is not { } divisor || divisor == 0f) return true;
                scale /= divisor;
                value = node.Input[0];
                continue;
            }
            if (graph.ScalarConstant(node.Input[1]) is { } right)
            {
                scale *= right;
                value = node.Input[0];
            }
            else if (graph.ScalarConstant(node.Input[0]) is { } left)
            {
                scale *= left;
                value = node.Input[1];
            }
            else if (graph.Producer(node.Input[1], "Sqrt") is not null)
            {
                shapeScaled++;
                value = node.Input[0];
            }
            else
            {
                return true; // a Mul by a tensor: not a scale (e.g. GEGLU's gate)
            }
        }
    }

    /// <summary>q: (scale)? ← [Reshape[B·N,S,H] ←] Transpose(0,2,1,3) ← Reshape[·,·,N,H] ← (scale)? ← X.</summary>
    private static HeadSplit? SplitQuery(GraphIndex graph, string value, int rank)
    {
        var scale = 1f;
        var shapeScaled = 0;
        if (!TakeScale(graph, ref value, ref scale, ref shapeScaled)) return null;
        if (rank == 3)
        {
            if (graph.Producer(value, "Reshape") is not { } flat || graph.SoleConsumer(value) is null) return null;
            value = flat.Input[0];
        }
        if (graph.Producer(value, "Transpose") is not { } transpose || !HasPerm(transpose, 0, 2, 1, 3)) return null;
        return HeadsOf(graph, transpose.Input[0], scale, shapeScaled);
    }

    /// <summary>
    /// k (as kᵀ per head): (scale)? ← Transpose(0,2,3,1) ← Reshape[·,·,N,H], or (scale)? ← Transpose(0,1,3,2) ←
    /// (scale)? ← Transpose(0,2,1,3) ← Reshape, or for 3-D: Transpose(0,2,1) ← Reshape[B·N,L,H] ← Transpose(0,2,1,3) ← Reshape.
    /// </summary>
    private static HeadSplit? SplitKey(GraphIndex graph, string value, int rank)
    {
        var scale = 1f;
        var shapeScaled = 0;
        if (!TakeScale(graph, ref value, ref scale, ref shapeScaled)) return null;
        if (graph.Producer(value, "Transpose") is not { } last) return null;
        if (rank == 4 && HasPerm(last, 0, 2, 3, 1))
        {
            value = last.Input[0];
            if (!TakeScale(graph, ref value, ref scale, ref shapeScaled)) return null;
            return HeadsOf(graph, value, scale, shapeScaled);
        }
        if (rank == 4 && HasPerm(last, 0, 1, 3, 2))
        {
            value = last.Input[0];
            if (!TakeScale(graph, ref value, ref scale, ref shapeScaled)) return null;
            if (graph.Producer(value, "Transpose") is not { } heads || !HasPerm(heads, 0, 2, 1, 3)) return null;
            return HeadsOf(graph, heads.Input[0], scale, shapeScaled);
        }
        if (rank == 3 && HasPerm(last, 0, 2, 1))
        {
            if (graph.Producer(last.Input[0], "Reshape") is not { } flat) return null;
            if (graph.Producer(flat.Input[0], "Transpose") is not { } heads || !HasPerm(heads, 0, 2, 1, 3)) return null;
            return HeadsOf(graph, heads.Input[0], scale, shapeScaled);
        }
        return null;
    }

    /// <summary>v: [Reshape[B·N,L,H] ←] Transpose(0,2,1,3) ← Reshape[·,·,N,H] ← X.</summary>
    private static HeadSplit? SplitValue(GraphIndex graph, string value, int rank)
    {
        if (rank == 3)
        {
            if (graph.Producer(value, "Reshape") is not { } flat) return null;
            value = flat.Input[0];
        }
        if (graph.Producer(value, "Transpose") is not { } transpose || !HasPerm(transpose, 0, 2, 1, 3)) return null;
        return HeadsOf(graph, transpose.Input[0], 1f, 0);
    }

    /// <summary>Reshape(X, [·, ·, N, H]) with X a projection (MatMul, or MatMul + bias), possibly scaled before the split.</summary>
    private static HeadSplit? HeadsOf(GraphIndex graph, string reshaped, float scale, int shapeScaled)
    {
        if (graph.Producer(reshaped, "Reshape") is not { } split) return null;
        if (graph.ShapeValues(split.Input[1]) is not { Length: 4 } shape || shape[2] is not { } heads || shape[3] is not { } headSize) return null;
        var source = split.Input[0];
        if (!TakeScale(graph, ref source, ref scale, ref shapeScaled)) return null;
        if (graph.Producer(source) is not { OpType: "MatMul" or "Add" or "Gemm" }) return null;
        return new HeadSplit(source, heads, headSize, scale, shapeScaled > 0);
    }

    /// <summary>
    /// The mask as MultiHeadAttention's attention_bias ([1 or B, 1 or N, S, L]): a constant of rank 2 to 4 is stored
    /// again with leading 1s. A computed mask (its rank unknown without shape inference) does not fuse.
    /// </summary>
    private static string? AttentionBias(GraphIndex graph, string mask)
    {
        var constant = graph.Constant(mask);
        if (constant is null) return null;
        if (constant.Dims.Count == 4) return mask;
        if (constant.Dims.Count is < 2 or > 4) return null;
        var values = TensorValues.ReadFloats(graph.Document, constant);
        if (values is null) return null;
        var dims = new long[4];
        for (var i = 0; i < 4; i++) dims[i] = 1;
        for (var i = 0; i < constant.Dims.Count; i++) dims[4 - constant.Dims.Count + i] = constant.Dims[i];
        var name = mask + "_bias4d";
        if (graph.Initializer(name) is null) graph.AddInitializer(TensorValues.CreateFloat(name, dims, values, constant.DataType));
        return name;
    }

    private static bool HasPerm(NodeProto transpose, params long[] perm) =>
        GraphIndex.IntsAttribute(transpose, "perm") is { } actual && actual.AsSpan().SequenceEqual(perm);
}
