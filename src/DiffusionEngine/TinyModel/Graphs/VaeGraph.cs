using DiffusionEngine.TinyModel.Onnx;

namespace DiffusionEngine.TinyModel.Graphs;

/// <summary>
/// diffusers' AutoencoderKL halves as ONNX graphs, the way the SD exporters split them:
/// vae_decoder = post_quant_conv + Decoder (latent_sample [b,4,h,w] → sample [b,3,8h,8w]) and
/// vae_encoder = Encoder + quant_conv, returning the latent distribution's mean (sample → latent_sample [b,4,h/8,w/8]),
/// or, as current Optimum exports it, its parameters mean ‖ log-variance (sample → latent_parameters [b,8,h/8,w/8]).
/// </summary>
internal static class VaeGraph
{
    private const float NormEpsilon = 1e-6f;

    public static OnnxGraph BuildDecoder(VaeArchitecture arch, OnnxElementType ioType, OnnxElementType computeType, ulong seed)
    {
        var g = new GraphBuilder("vae_decoder", computeType, ioType, seed);
        var latent = VaeArchitecture.LatentChannels;
        var z = g.ToCompute(g.Input("latent_sample", ioType, "batch_size", latent, "latent_height", "latent_width"), ioType);
        z = Layers.Conv2d(g, z, latent, latent, 1, "post_quant_conv");

        using (g.Scope("decoder"))
        {
            var top = arch.BlockOutChannels[^1];
            var h = Layers.Conv2d(g, z, latent, top, 3, "conv_in");
            h = MidBlock(g, h, top, arch.NormGroups);

            var previous = top;
            var blocks = arch.BlockOutChannels.Length;
            for (var i = 0; i < blocks; i++)
            {
                using var _ = g.Scope($"up_blocks.{i}");
                var outChannels = arch.BlockOutChannels[blocks - 1 - i];
                for (var j = 0; j <= arch.LayersPerBlock; j++)
                    h = Resnet(g, h, j == 0 ? previous : outChannels, outChannels, arch.NormGroups, $"resnets.{j}");
                if (i < blocks - 1)
                    h = Layers.Conv2d(g, Layers.Upsample2xNearest(g, h), outChannels, outChannels, 3, "upsamplers.0.conv");
                previous = outChannels;
            }

            var bottom = arch.BlockOutChannels[0];
            h = Layers.Silu(g, Layers.GroupNorm(g, h, bottom, arch.NormGroups, NormEpsilon, "conv_norm_out"));
            h = Layers.Conv2d(g, h, bottom, VaeArchitecture.ImageChannels, 3, "conv_out");
            g.Output(h, "sample", ioType, "batch_size", VaeArchitecture.ImageChannels, "height", "width");
        }
        return g.Build();
    }

    public static OnnxGraph BuildEncoder(VaeArchitecture arch, OnnxElementType ioType, OnnxElementType computeType, ulong seed,
        VaeEncoderOutput output = VaeEncoderOutput.LatentSample)
    {
        var g = new GraphBuilder("vae_encoder", computeType, ioType, seed);
        var image = g.ToCompute(g.Input("sample", ioType, "batch_size", VaeArchitecture.ImageChannels, "height", "width"), ioType);
        var latent = VaeArchitecture.LatentChannels;

        string moments;
        using (g.Scope("encoder"))
        {
            var bottom = arch.BlockOutChannels[0];
            var h = Layers.Conv2d(g, image, VaeArchitecture.ImageChannels, bottom, 3, "conv_in");
            var previous = bottom;
            var blocks = arch.BlockOutChannels.Length;
            for (var i = 0; i < blocks; i++)
            {
                using var _ = g.Scope($"down_blocks.{i}");
                var outChannels = arch.BlockOutChannels[i];
                for (var j = 0; j < arch.LayersPerBlock; j++)
                    h = Resnet(g, h, j == 0 ? previous : outChannels, outChannels, arch.NormGroups, $"resnets.{j}");
                if (i < blocks - 1)
                {
                    // diffusers' VAE Downsample2D pads (0, 1, 0, 1) — right and bottom only — then convolves with stride 2.
                    h = Layers.Conv2d(g, h, outChannels, outChannels, 3, "downsamplers.0.conv", stride: 2, pads: [0, 0, 1, 1]);
                }
                previous = outChannels;
            }

            var top = arch.BlockOutChannels[^1];
            h = MidBlock(g, h, top, arch.NormGroups);
            h = Layers.Silu(g, Layers.GroupNorm(g, h, top, arch.NormGroups, NormEpsilon, "conv_norm_out"));
            moments = Layers.Conv2d(g, h, top, 2 * latent, 3, "conv_out");
        }
        moments = Layers.Conv2d(g, moments, 2 * latent, 2 * latent, 1, "quant_conv");
        if (output == VaeEncoderOutput.LatentParameters)
        {
            g.Output(moments, "latent_parameters", ioType, "batch_size", 2 * latent, "latent_height", "latent_width");
            return g.Build();
        }
        var meanAndLogVariance = g.Op("Split", [moments], 2, OnnxAttribute.Int("axis", 1));
        g.Output(meanAndLogVariance[0], "latent_sample", ioType, "batch_size", latent, "latent_height", "latent_width");
        return g.Build();
    }

    /// <summary>UNetMidBlock2D of the VAE: ResNet, single-head self-attention, ResNet.</summary>
    private static string MidBlock(GraphBuilder g, string h, int channels, int groups)
    {
        using var _ = g.Scope("mid_block");
        h = Resnet(g, h, channels, channels, groups, "resnets.0");
        h = SelfAttention(g, h, channels, groups, "attentions.0");
        return Resnet(g, h, channels, channels, groups, "resnets.1");
    }

    /// <summary>ResnetBlock2D without time embedding.</summary>
    private static string Resnet(GraphBuilder g, string x, int inChannels, int outChannels, int groups, string name)
    {
        using var _ = g.Scope(name);
        var h = Layers.Silu(g, Layers.GroupNorm(g, x, inChannels, groups, NormEpsilon, "norm1"));
        h = Layers.Conv2d(g, h, inChannels, outChannels, 3, "conv1");
        h = Layers.Silu(g, Layers.GroupNorm(g, h, outChannels, groups, NormEpsilon, "norm2"));
        h = Layers.Conv2d(g, h, outChannels, outChannels, 3, "conv2");
        var shortcut = inChannels == outChannels ? x : Layers.Conv2d(g, x, inChannels, outChannels, 1, "conv_shortcut");
        return g.Op("Add", [shortcut, h]);
    }

    /// <summary>diffusers Attention with group_norm, one head, biased q/k/v/out projections and a residual.</summary>
    private static string SelfAttention(GraphBuilder g, string x, int channels, int groups, string name)
    {
        using var _ = g.Scope(name);
        var shape = g.Op("Shape", [x]);
        var tokens = Layers.ImageToTokens(g, Layers.GroupNorm(g, x, channels, groups, NormEpsilon, "group_norm"), channels);
        var q = Layers.Linear(g, tokens, channels, channels, "to_q");
        var k = Layers.Linear(g, tokens, channels, channels, "to_k");
        var v = Layers.Linear(g, tokens, channels, channels, "to_v");
        var attended = Layers.ScaledDotProductAttention(g, q, k, v, channels, heads: 1);
        var projected = Layers.Linear(g, attended, channels, channels, "to_out.0");
        return g.Op("Add", [Layers.TokensToImage(g, projected, shape), x]);
    }
}
