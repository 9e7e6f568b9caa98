using DiffusionEngine.TinyModel.Onnx;

namespace DiffusionEngine.TinyModel.Graphs;

/// <summary>
/// diffusers' UNet2DConditionModel as an ONNX graph: sinusoidal timestep embedding → MLP; conv_in; down blocks of
/// ResNet blocks (GroupNorm, SiLU, time injection) and cross-attention transformer blocks, with strided-conv
/// downsampling; a mid block (ResNet, transformer, ResNet); up blocks that concatenate the skip connections and
/// upsample (nearest ×2 + conv); GroupNorm, SiLU, conv_out. Inputs sample, timestep, encoder_hidden_states (its sequence
/// dynamic, or fixed to <c>textSequence</c> as in a static-shape export); output out_sample.
/// The other kinds' inputs as their architectures ask: 9 sample channels (inpainting), <c>timestep_cond</c> through the
/// time embedding's cond_proj (LCM), <c>text_embeds</c> and <c>time_ids</c> through add_time_proj/add_embedding into the
/// time embedding (SDXL's addition_embed_type "text_time"); SDXL's transformers have linear projections and several blocks.
/// </summary>
internal static class UNetGraph
{
    private const float ResnetEpsilon = 1e-5f;
    private const float TransformerNormEpsilon = 1e-6f;
    private const float LayerNormEpsilon = 1e-5f;

    public static OnnxGraph Build(UNetArchitecture arch, OnnxElementType ioType, OnnxElementType computeType,
        TimestepInput timestepInput, ulong seed, int? textSequence = null)
    {
        var g = new GraphBuilder("unet", computeType, ioType, seed);
        var latent = UNetArchitecture.LatentChannels;
        var sample = g.ToCompute(g.Input("sample", ioType, "batch_size", arch.InChannels, "height", "width"), ioType);
        var timestep = TimestepAsColumn(g, timestepInput, ioType);
        var context = g.ToCompute(
            g.Input("encoder_hidden_states", ioType, "batch_size",
                textSequence is { } fixedSequence ? fixedSequence : "sequence_length", arch.CrossAttentionDim), ioType);
        var textEmbeds = arch.AdditionTimeEmbedDim is null ? null : g.Input("text_embeds", ioType, "batch_size", arch.TextEmbedsDim);
        var timeIds = arch.AdditionTimeEmbedDim is null ? null : g.Input("time_ids", ioType, "batch_size", 6);
        var timestepCond = arch.TimeCondProjDim is { } condDim ? g.Input("timestep_cond", ioType, "batch_size", condDim) : null;

        // 1. Time embedding: Timesteps(flip_sin_to_cos=True, downscale_freq_shift=0) → Linear → SiLU → Linear.
        var channels0 = arch.BlockOutChannels[0];
        var timeDim = arch.TimeEmbeddingDim;
        var temb = g.ToCompute(SinusoidalEmbedding(g, timestep, channels0), OnnxElementType.Float);
        using (g.Scope("time_embedding"))
        {
            // LCM: TimestepEmbedding's cond_proj adds the guidance embedding before linear_1.
            if (timestepCond is not null)
                temb = g.Op("Add", [temb, Layers.Linear(g, g.ToCompute(timestepCond, ioType), arch.TimeCondProjDim!.Value, channels0, "cond_proj", bias: false)]);
            temb = Layers.Linear(g, temb, channels0, timeDim, "linear_1");
            temb = Layers.Linear(g, Layers.Silu(g, temb), timeDim, timeDim, "linear_2");
        }
        if (textEmbeds is not null) temb = g.Op("Add", [temb, AddedTimeEmbedding(g, textEmbeds, timeIds!, arch, ioType)]);
        // Every ResNet block applies SiLU to the embedding before its own projection; compute it once.
        var tembActivated = Layers.Silu(g, temb);

        // 2. Down path; every block output is kept for the up path's skip connections.
        var h = Layers.Conv2d(g, sample, arch.InChannels, channels0, 3, "conv_in");
        var skips = new Stack<(string Value, int Channels)>();
        skips.Push((h, channels0));
        var blocks = arch.BlockOutChannels.Length;
        var inChannels = channels0;
        for (var i = 0; i < blocks; i++)
        {
            using var _ = g.Scope($"down_blocks.{i}");
            var outChannels = arch.BlockOutChannels[i];
            for (var j = 0; j < arch.LayersPerBlock; j++)
            {
                h = Resnet(g, h, j == 0 ? inChannels : outChannels, outChannels, tembActivated, timeDim, arch.NormGroups, $"resnets.{j}");
                if (arch.CrossAttention[i])
                    h = Transformer(g, h, outChannels, context, arch, arch.TransformerLayersAt(i), $"attentions.{j}");
                skips.Push((h, outChannels));
            }
            if (i < blocks - 1)
            {
                h = Layers.Conv2d(g, h, outChannels, outChannels, 3, "downsamplers.0.conv", stride: 2);
                skips.Push((h, outChannels));
            }
            inChannels = outChannels;
        }

        // 3. Mid block.
        var midChannels = arch.BlockOutChannels[^1];
        using (g.Scope("mid_block"))
        {
            h = Resnet(g, h, midChannels, midChannels, tembActivated, timeDim, arch.NormGroups, "resnets.0");
            h = Transformer(g, h, midChannels, context, arch, arch.TransformerLayersAt(blocks - 1), "attentions.0");
            h = Resnet(g, h, midChannels, midChannels, tembActivated, timeDim, arch.NormGroups, "resnets.1");
        }

        // 4. Up path: each ResNet block takes [h ; skip] concatenated on channels.
        var previousChannels = midChannels;
        for (var i = 0; i < blocks; i++)
        {
            using var _ = g.Scope($"up_blocks.{i}");
            var level = blocks - 1 - i;
            var outChannels = arch.BlockOutChannels[level];
            for (var j = 0; j <= arch.LayersPerBlock; j++)
            {
                var (skip, skipChannels) = skips.Pop();
                var resnetIn = j == 0 ? previousChannels : outChannels;
                h = g.Op("Concat", [h, skip], OnnxAttribute.Int("axis", 1));
                h = Resnet(g, h, resnetIn + skipChannels, outChannels, tembActivated, timeDim, arch.NormGroups, $"resnets.{j}");
                if (arch.CrossAttention[level])
                    h = Transformer(g, h, outChannels, context, arch, arch.TransformerLayersAt(level), $"attentions.{j}");
            }
            if (i < blocks - 1)
            {
                // Upsample to the next skip's size (diffusers' forward_upsample_size), so odd latent sizes work too.
                var upsampled = Layers.UpsampleNearestTo(g, h, skips.Peek().Value);
                h = Layers.Conv2d(g, upsampled, outChannels, outChannels, 3, "upsamplers.0.conv");
            }
            previousChannels = outChannels;
        }

        // 5. Output head.
        h = Layers.Silu(g, Layers.GroupNorm(g, h, channels0, arch.NormGroups, ResnetEpsilon, "conv_norm_out"));
        h = Layers.Conv2d(g, h, channels0, latent, 3, "conv_out");
        g.Output(h, "out_sample", ioType, "batch_size", latent, "height", "width");
        return g.Build();
    }

    /// <summary>The timestep input as a float32 [batch or 1, 1] column, whatever its declared type and rank.</summary>
    private static string TimestepAsColumn(GraphBuilder g, TimestepInput timestepInput, OnnxElementType ioType)
    {
        var timestep = timestepInput == TimestepInput.Int64Batch
            ? g.Input("timestep", OnnxElementType.Int64, "batch_size")
            : g.Input("timestep", ioType); // rank-0 scalar
        var asFloat = g.Op("Cast", [timestep], OnnxAttribute.Int("to", (long)OnnxElementType.Float));
        return g.Op("Reshape", [asFloat, g.Int64Constant(-1, 1)]);
    }

    /// <summary>
    /// diffusers get_timestep_embedding with flip_sin_to_cos=True, downscale_freq_shift=0:
    /// freq_i = exp(−ln(10000)·i/half), embedding = [cos(t·freq) ; sin(t·freq)]. Always float32 (t reaches 999).
    /// </summary>
    private static string SinusoidalEmbedding(GraphBuilder g, string timestepColumn, int dim)
    {
        var half = dim / 2;
        var frequencies = new float[half];
        for (var i = 0; i < half; i++)
            frequencies[i] = (float)Math.Exp(-Math.Log(10000.0) * i / half);
        var table = g.FloatConstant("time_proj.frequencies", [1, half], frequencies, OnnxElementType.Float);
        var angles = g.Op("Mul", [timestepColumn, table]);
        return g.Op("Concat", [g.Op("Cos", [angles]), g.Op("Sin", [angles])], OnnxAttribute.Int("axis", 1));
    }

    /// <summary>ResnetBlock2D: GroupNorm → SiLU → conv1 → + time projection → GroupNorm → SiLU → conv2, plus a (1×1 conv) shortcut.</summary>
    private static string Resnet(GraphBuilder g, string x, int inChannels, int outChannels, string tembActivated,
        int timeDim, int groups, string name)
    {
        using var _ = g.Scope(name);
        var h = Layers.Silu(g, Layers.GroupNorm(g, x, inChannels, groups, ResnetEpsilon, "norm1"));
        h = Layers.Conv2d(g, h, inChannels, outChannels, 3, "conv1");
        var time = Layers.Linear(g, tembActivated, timeDim, outChannels, "time_emb_proj");
        h = g.Op("Add", [h, g.Op("Unsqueeze", [time, g.Int64Constant(2, 3)])]);
        h = Layers.Silu(g, Layers.GroupNorm(g, h, outChannels, groups, ResnetEpsilon, "norm2"));
        h = Layers.Conv2d(g, h, outChannels, outChannels, 3, "conv2");
        var shortcut = inChannels == outChannels ? x : Layers.Conv2d(g, x, inChannels, outChannels, 1, "conv_shortcut");
        return g.Op("Add", [shortcut, h]);
    }

    /// <summary>
    /// Transformer2DModel: GroupNorm, proj_in (a 1×1 conv in SD 1.x, a Linear on the tokens in SD 2.x/SDXL), then
    /// <paramref name="layers"/> BasicTransformerBlocks (self-attention, cross-attention to the text states, GEGLU
    /// feed-forward, each pre-LayerNorm with a residual), proj_out, plus the block's input.
    /// </summary>
    private static string Transformer(GraphBuilder g, string x, int channels, string context, UNetArchitecture arch, int layers, string name)
    {
        using var _ = g.Scope(name);
        var shape = g.Op("Shape", [x]);
        var heads = arch.HeadsAt(channels);
        var h = Layers.GroupNorm(g, x, channels, arch.NormGroups, TransformerNormEpsilon, "norm");
        if (arch.LinearProjection) h = Layers.Linear(g, Layers.ImageToTokens(g, h, channels), channels, channels, "proj_in");
        else h = Layers.ImageToTokens(g, Layers.Conv2d(g, h, channels, channels, 1, "proj_in"), channels);
        for (var block = 0; block < layers; block++)
        {
            using var blockScope = g.Scope($"transformer_blocks.{block}");
            var normed = Layers.LayerNorm(g, h, channels, LayerNormEpsilon, "norm1");
            h = g.Op("Add", [h, Attention(g, normed, normed, channels, channels, heads, "attn1")]);
            normed = Layers.LayerNorm(g, h, channels, LayerNormEpsilon, "norm2");
            h = g.Op("Add", [h, Attention(g, normed, context, channels, arch.CrossAttentionDim, heads, "attn2")]);
            normed = Layers.LayerNorm(g, h, channels, LayerNormEpsilon, "norm3");
            h = g.Op("Add", [h, GegluFeedForward(g, normed, channels)]);
        }
        if (arch.LinearProjection) h = Layers.TokensToImage(g, Layers.Linear(g, h, channels, channels, "proj_out"), shape);
        else h = Layers.Conv2d(g, Layers.TokensToImage(g, h, shape), channels, channels, 1, "proj_out");
        return g.Op("Add", [h, x]);
    }

    /// <summary>
    /// SDXL's added conditioning (diffusers' addition_embed_type "text_time"): each of the six time ids embedded
    /// sinusoidally (add_time_proj, addition_time_embed_dim wide), flattened, concatenated after text_embeds, through
    /// add_embedding (Linear → SiLU → Linear to the time embedding's width); added to the time embedding.
    /// </summary>
    private static string AddedTimeEmbedding(GraphBuilder g, string textEmbeds, string timeIds, UNetArchitecture arch, OnnxElementType ioType)
    {
        var dim = arch.AdditionTimeEmbedDim!.Value;
        string timeEmbeds;
        using (g.Scope("add_time_proj"))
        {
            var column = g.Op("Reshape", [g.Op("Cast", [timeIds], OnnxAttribute.Int("to", (long)OnnxElementType.Float)), g.Int64Constant(-1, 1)]);
            timeEmbeds = g.Op("Reshape", [SinusoidalEmbedding(g, column, dim), g.Int64Constant(-1, 6 * dim)]);
        }
        var added = g.Op("Concat", [g.ToCompute(textEmbeds, ioType), g.ToCompute(timeEmbeds, OnnxElementType.Float)], OnnxAttribute.Int("axis", 1));
        using var _ = g.Scope("add_embedding");
        var timeDim = arch.TimeEmbeddingDim;
        added = Layers.Linear(g, added, arch.AdditionEmbeddingInputDim, timeDim, "linear_1");
        return Layers.Linear(g, Layers.Silu(g, added), timeDim, timeDim, "linear_2");
    }

    /// <summary>diffusers Attention: bias-free q/k/v projections, output projection with bias.</summary>
    private static string Attention(GraphBuilder g, string x, string context, int channels, int contextChannels, int heads, string name)
    {
        using var _ = g.Scope(name);
        var q = Layers.Linear(g, x, channels, channels, "to_q", bias: false);
        var k = Layers.Linear(g, context, contextChannels, channels, "to_k", bias: false);
        var v = Layers.Linear(g, context, contextChannels, channels, "to_v", bias: false);
        var attended = Layers.ScaledDotProductAttention(g, q, k, v, channels, heads);
        return Layers.Linear(g, attended, channels, channels, "to_out.0");
    }

    /// <summary>FeedForward with GEGLU: proj to 2·4C, value · GELU(gate), then back to C.</summary>
    private static string GegluFeedForward(GraphBuilder g, string x, int channels)
    {
        using var _ = g.Scope("ff");
        var inner = channels * 4;
        var projected = Layers.Linear(g, x, channels, inner * 2, "net.0.proj");
        var halves = g.Op("Split", [projected], 2, OnnxAttribute.Int("axis", -1));
        var gated = g.Op("Mul", [halves[0], Layers.Gelu(g, halves[1])]);
        return Layers.Linear(g, gated, inner, channels, "net.2");
    }
}
