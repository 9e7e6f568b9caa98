using DiffusionEngine.TinyModel.Onnx;

namespace DiffusionEngine.TinyModel.Graphs;

/// <summary>
/// The building blocks shared by the text encoder, UNet and VAE graphs, expressed in opset-17 ONNX ops that ONNX
/// Runtime's CPU provider implements. Weight names and shapes follow the PyTorch modules (parameter counts match);
/// Linear weights are stored [in, out] as exporters store them for MatMul. Random weights use PyTorch's default
/// fan-in scaling (std = 1/√fan_in, here as a uniform distribution) so activations keep unit scale through the stack.
/// </summary>
internal static class Layers
{
    public static string Linear(GraphBuilder g, string x, int inFeatures, int outFeatures, string name, bool bias = true)
    {
        using var _ = g.Scope(name);
        var bound = MathF.Sqrt(3f / inFeatures);
        var y = g.Op("MatMul", [x, g.Parameter("weight", [inFeatures, outFeatures], bound)]);
        return bias ? g.Op("Add", [y, g.Parameter("bias", [outFeatures], 1f / MathF.Sqrt(inFeatures))]) : y;
    }

    /// <summary>2-D convolution; <paramref name="pads"/> defaults to symmetric kernel/2 ("same" for odd kernels).</summary>
    public static string Conv2d(GraphBuilder g, string x, int inChannels, int outChannels, int kernel, string name,
        int stride = 1, long[]? pads = null)
    {
        using var _ = g.Scope(name);
        var fanIn = inChannels * kernel * kernel;
        var weight = g.Parameter("weight", [outChannels, inChannels, kernel, kernel], MathF.Sqrt(3f / fanIn));
        var bias = g.Parameter("bias", [outChannels], 1f / MathF.Sqrt(fanIn));
        var pad = kernel / 2;
        return g.Op("Conv", [x, weight, bias],
            OnnxAttribute.Ints("kernel_shape", kernel, kernel),
            OnnxAttribute.Ints("strides", stride, stride),
            OnnxAttribute.Ints("pads", pads ?? [pad, pad, pad, pad]));
    }

    /// <summary>
    /// GroupNorm over NCHW: normalise each of <paramref name="groups"/> channel groups (Reshape to [N, G, -1] +
    /// InstanceNormalization, since GroupNormalization needs opset 18), then the per-channel affine transform.
    /// </summary>
    public static string GroupNorm(GraphBuilder g, string x, int channels, int groups, float epsilon, string name)
    {
        using var _ = g.Scope(name);
        var shape = g.Op("Shape", [x]);
        var grouped = g.Op("Reshape", [x, g.Int64Constant(0, groups, -1)]);
        var normalized = g.Op("InstanceNormalization",
            [grouped, g.FilledConstant("group_scale", [groups], 1f), g.FilledConstant("group_bias", [groups], 0f)],
            OnnxAttribute.Float("epsilon", epsilon));
        var restored = g.Op("Reshape", [normalized, shape]);
        var scaled = g.Op("Mul", [restored, g.Parameter("weight", [channels, 1, 1], 0.2f, center: 1f)]);
        return g.Op("Add", [scaled, g.Parameter("bias", [channels, 1, 1], 0.1f)]);
    }

    /// <summary>LayerNorm over the last axis.</summary>
    public static string LayerNorm(GraphBuilder g, string x, int channels, float epsilon, string name)
    {
        using var _ = g.Scope(name);
        return g.Op("LayerNormalization",
            [x, g.Parameter("weight", [channels], 0.2f, center: 1f), g.Parameter("bias", [channels], 0.1f)],
            OnnxAttribute.Int("axis", -1),
            OnnxAttribute.Float("epsilon", epsilon));
    }

    /// <summary>SiLU(x) = x·σ(x).</summary>
    public static string Silu(GraphBuilder g, string x) => g.Op("Mul", [x, g.Op("Sigmoid", [x])]);

    /// <summary>CLIP's quick GELU: x·σ(1.702·x).</summary>
    public static string QuickGelu(GraphBuilder g, string x) =>
        g.Op("Mul", [x, g.Op("Sigmoid", [g.Op("Mul", [x, g.Scalar(1.702f)])])]);

    /// <summary>Exact GELU: 0.5·x·(1 + erf(x/√2)) (the Gelu op needs opset 20).</summary>
    public static string Gelu(GraphBuilder g, string x)
    {
        var erf = g.Op("Erf", [g.Op("Mul", [x, g.Scalar(1f / MathF.Sqrt(2f))])]);
        return g.Op("Mul", [g.Op("Mul", [x, g.Scalar(0.5f)]), g.Op("Add", [erf, g.Scalar(1f)])]);
    }

    /// <summary>
    /// Multi-head scaled dot-product attention on [batch, tokens, channels] projections:
    /// softmax(q·kᵀ/√d + mask)·v per head, heads concatenated back to [batch, tokens, channels].
    /// The subgraph has the shape real diffusers/Optimum exports have (Reshape/Transpose per head → MatMul → Mul by the
    /// scale → Softmax → MatMul → Transpose/Reshape), so the graph optimizer's attention fusion matches it here too.
    /// </summary>
    public static string ScaledDotProductAttention(GraphBuilder g, string q, string k, string v, int channels, int heads, string? mask = null)
    {
        var headDim = channels / heads;
        var split = g.Int64Constant(0, 0, heads, headDim);
        var q4 = g.Op("Transpose", [g.Op("Reshape", [q, split])], OnnxAttribute.Ints("perm", 0, 2, 1, 3));
        var kT = g.Op("Transpose", [g.Op("Reshape", [k, split])], OnnxAttribute.Ints("perm", 0, 2, 3, 1));
        var v4 = g.Op("Transpose", [g.Op("Reshape", [v, split])], OnnxAttribute.Ints("perm", 0, 2, 1, 3));
        var scores = g.Op("Mul", [g.Op("MatMul", [q4, kT]), g.Scalar(1f / MathF.Sqrt(headDim))]);
        if (mask is not null) scores = g.Op("Add", [scores, mask]);
        var weights = g.Op("Softmax", [scores], OnnxAttribute.Int("axis", -1));
        var context = g.Op("Transpose", [g.Op("MatMul", [weights, v4])], OnnxAttribute.Ints("perm", 0, 2, 1, 3));
        return g.Op("Reshape", [context, g.Int64Constant(0, 0, channels)]);
    }

    /// <summary>[N, C, H, W] → [N, H·W, C] tokens.</summary>
    public static string ImageToTokens(GraphBuilder g, string x, int channels) =>
        g.Op("Transpose", [g.Op("Reshape", [x, g.Int64Constant(0, channels, -1)])], OnnxAttribute.Ints("perm", 0, 2, 1));

    /// <summary>[N, H·W, C] tokens → the shape <paramref name="imageShape"/> (a Shape output of the original image).</summary>
    public static string TokensToImage(GraphBuilder g, string tokens, string imageShape) =>
        g.Op("Reshape", [g.Op("Transpose", [tokens], OnnxAttribute.Ints("perm", 0, 2, 1)), imageShape]);

    /// <summary>Nearest-neighbour ×2 upsampling of NCHW, as torch.nn.functional.interpolate(scale_factor=2.0, mode="nearest").</summary>
    public static string Upsample2xNearest(GraphBuilder g, string x) =>
        g.Op("Resize", [x, "", g.SharedFloat32Constant("resize_scales_2x", [1f, 1f, 2f, 2f])], NearestResizeAttributes);

    /// <summary>Nearest-neighbour upsampling of NCHW <paramref name="x"/> to the height and width of <paramref name="like"/>.</summary>
    public static string UpsampleNearestTo(GraphBuilder g, string x, string like)
    {
        var sizes = g.Op("Concat",
            [g.Op("Shape", [x], OnnxAttribute.Int("start", 0), OnnxAttribute.Int("end", 2)),
             g.Op("Shape", [like], OnnxAttribute.Int("start", 2), OnnxAttribute.Int("end", 4))],
            OnnxAttribute.Int("axis", 0));
        return g.Op("Resize", [x, "", "", sizes], NearestResizeAttributes);
    }

    // PyTorch's "nearest": source index = floor(destination index · in/out).
    private static readonly OnnxAttribute[] NearestResizeAttributes =
    [
        OnnxAttribute.String("mode", "nearest"),
        OnnxAttribute.String("nearest_mode", "floor"),
        OnnxAttribute.String("coordinate_transformation_mode", "asymmetric"),
    ];
}
