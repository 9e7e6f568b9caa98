using DiffusionEngine.TinyModel.Onnx;

namespace DiffusionEngine.TinyModel.Graphs;

/// <summary>
/// CLIPTextModel: token + position embedding, pre-LayerNorm transformer layers with causal self-attention and a
/// quick-GELU MLP, final LayerNorm. Outputs last_hidden_state [batch, 77, hidden] and pooler_output [batch, hidden]
/// (the state at the end-of-text token, found as the arg-max id as transformers does for this vocabulary).
/// </summary>
internal static class TextEncoderGraph
{
    public static OnnxGraph Build(TextEncoderArchitecture arch, int vocabularySize, OnnxElementType idsType,
        OnnxElementType ioType, OnnxElementType computeType, ulong seed)
    {
        var g = new GraphBuilder("text_encoder", computeType, ioType, seed);
        var tokens = arch.MaxPositionEmbeddings;
        var hidden = arch.HiddenSize;
        var ids = g.Input("input_ids", idsType, "batch_size", tokens);

        string x;
        using (g.Scope("text_model.embeddings"))
        {
            var tokenTable = g.Parameter("token_embedding.weight", [vocabularySize, hidden], MathF.Sqrt(3f));
            var positionTable = g.Parameter("position_embedding.weight", [tokens, hidden], MathF.Sqrt(3f) * 0.5f);
            x = g.Op("Add", [g.Op("Gather", [tokenTable, ids], OnnxAttribute.Int("axis", 0)), positionTable]);
        }

        var causalMask = CausalMask(g, tokens);
        for (var layer = 0; layer < arch.HiddenLayers; layer++)
        {
            using var _ = g.Scope($"text_model.encoder.layers.{layer}");
            var normed = Layers.LayerNorm(g, x, hidden, arch.LayerNormEpsilon, "layer_norm1");
            x = g.Op("Add", [x, SelfAttention(g, normed, hidden, arch.AttentionHeads, causalMask)]);
            normed = Layers.LayerNorm(g, x, hidden, arch.LayerNormEpsilon, "layer_norm2");
            var mlp = Layers.Linear(g, normed, hidden, arch.IntermediateSize, "mlp.fc1");
            mlp = Layers.Linear(g, Layers.QuickGelu(g, mlp), arch.IntermediateSize, hidden, "mlp.fc2");
            x = g.Op("Add", [x, mlp]);
        }

        var last = Layers.LayerNorm(g, x, hidden, arch.LayerNormEpsilon, "text_model.final_layer_norm");
        g.Output(last, "last_hidden_state", ioType, "batch_size", tokens, hidden);

        // pooler_output = last_hidden_state[b, argmax(input_ids[b])]: EOS has the highest id in a CLIP vocabulary.
        var idsAsFloat = g.Op("Cast", [ids], OnnxAttribute.Int("to", (long)OnnxElementType.Float));
        var eosIndex = g.Op("ArgMax", [idsAsFloat], OnnxAttribute.Int("axis", -1), OnnxAttribute.Int("keepdims", 1));
        var pooled = g.Op("GatherND", [last, eosIndex], OnnxAttribute.Int("batch_dims", 1));
        g.Output(pooled, "pooler_output", ioType, "batch_size", hidden);
        return g.Build();
    }

    private static string SelfAttention(GraphBuilder g, string x, int hidden, int heads, string mask)
    {
        using var _ = g.Scope("self_attn");
        var q = Layers.Linear(g, x, hidden, hidden, "q_proj");
        var k = Layers.Linear(g, x, hidden, hidden, "k_proj");
        var v = Layers.Linear(g, x, hidden, hidden, "v_proj");
        var context = Layers.ScaledDotProductAttention(g, q, k, v, hidden, heads, mask);
        return Layers.Linear(g, context, hidden, hidden, "out_proj");
    }

    /// <summary>[tokens, tokens] additive mask: 0 where a token may attend (itself and earlier), a large negative value above the diagonal.</summary>
    private static string CausalMask(GraphBuilder g, int tokens)
    {
        var values = new float[tokens * tokens];
        for (var row = 0; row < tokens; row++)
            for (var column = row + 1; column < tokens; column++)
                values[row * tokens + column] = -10000f;
        return g.FloatConstant("text_model.causal_attention_mask", [tokens, tokens], values, g.ComputeType);
    }
}
