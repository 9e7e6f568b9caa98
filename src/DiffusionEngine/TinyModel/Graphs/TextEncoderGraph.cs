using DiffusionEngine.TinyModel.Onnx;

namespace DiffusionEngine.TinyModel.Graphs;

/// <summary>
/// CLIPTextModel: token + position embedding, pre-LayerNorm transformer layers with causal self-attention and a
/// quick-GELU MLP (exact GELU for OpenCLIP's bigG), final LayerNorm. Outputs last_hidden_state [batch, 77, hidden] and
/// pooler_output [batch, hidden] (the state at the end-of-text token, found as the arg-max id as transformers does for
/// this vocabulary). With a projection (CLIPTextModelWithProjection, SDXL's text_encoder_2) the pooled state is
/// projected and output as text_embeds [batch, projection] instead, first, as Optimum orders them. With
/// <c>hiddenStates</c>, also hidden_states.0 (the embeddings) … hidden_states.N (each layer's output), as Optimum
/// exports them with output_hidden_states.
/// </summary>
internal static class TextEncoderGraph
{
    public static OnnxGraph Build(TextEncoderArchitecture arch, int vocabularySize, OnnxElementType idsType,
        OnnxElementType ioType, OnnxElementType computeType, ulong seed, bool hiddenStates = false)
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
        var layerOutputs = new List<string>(arch.HiddenLayers + 1) { x };
        for (var layer = 0; layer < arch.HiddenLayers; layer++)
        {
            using var _ = g.Scope($"text_model.encoder.layers.{layer}");
            var normed = Layers.LayerNorm(g, x, hidden, arch.LayerNormEpsilon, "layer_norm1");
            x = g.Op("Add", [x, SelfAttention(g, normed, hidden, arch.AttentionHeads, causalMask)]);
            normed = Layers.LayerNorm(g, x, hidden, arch.LayerNormEpsilon, "layer_norm2");
            var mlp = Layers.Linear(g, normed, hidden, arch.IntermediateSize, "mlp.fc1");
            mlp = arch.ExactGelu ? Layers.Gelu(g, mlp) : Layers.QuickGelu(g, mlp);
            mlp = Layers.Linear(g, mlp, arch.IntermediateSize, hidden, "mlp.fc2");
            x = g.Op("Add", [x, mlp]);
            layerOutputs.Add(x);
        }

        var last = Layers.LayerNorm(g, x, hidden, arch.LayerNormEpsilon, "text_model.final_layer_norm");
        if (arch.ProjectionDim is { } projection)
        {
            var embeds = Layers.Linear(g, Pooled(g, last, ids), hidden, projection, "text_projection", bias: false);
            g.Output(embeds, "text_embeds", ioType, "batch_size", projection);
            g.Output(last, "last_hidden_state", ioType, "batch_size", tokens, hidden);
        }
        else
        {
            g.Output(last, "last_hidden_state", ioType, "batch_size", tokens, hidden);
            g.Output(Pooled(g, last, ids), "pooler_output", ioType, "batch_size", hidden);
        }
        if (hiddenStates)
        {
            for (var i = 0; i < layerOutputs.Count; i++) g.Output(layerOutputs[i], $"hidden_states.{i}", ioType, "batch_size", tokens, hidden);
        }
        return g.Build();
    }

    /// <summary>last_hidden_state[b, argmax(input_ids[b])]: EOS has the highest id in a CLIP vocabulary.</summary>
    private static string Pooled(GraphBuilder g, string last, string ids)
    {
        var idsAsFloat = g.Op("Cast", [ids], OnnxAttribute.Int("to", (long)OnnxElementType.Float));
        var eosIndex = g.Op("ArgMax", [idsAsFloat], OnnxAttribute.Int("axis", -1), OnnxAttribute.Int("keepdims", 1));
        return g.Op("GatherND", [last, eosIndex], OnnxAttribute.Int("batch_dims", 1));
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
