using System.Globalization;

namespace DiffusionEngine.Runtime;

/// <summary>
/// CUDA execution provider options, defaulted for Stable Diffusion (fixed shapes per batch, convolution-heavy UNet):
/// see <see cref="ToProviderOptions"/> for the ONNX Runtime keys. Used only when the CUDA provider is chosen.
/// </summary>
public sealed record CudaSettings
{
    /// <summary>GPU ordinal.</summary>
    public int DeviceId { get; init; }

    /// <summary>
    /// cuDNN convolution algorithm search: EXHAUSTIVE benchmarks every algorithm once per shape (seconds on the first
    /// call, then the fastest kernels for SD's fixed shapes), HEURISTIC asks cuDNN's heuristics, DEFAULT takes the first.
    /// </summary>
    public string ConvAlgorithmSearch { get; init; } = "EXHAUSTIVE";

    /// <summary>Run convolutions in NHWC (tensor-core friendly; ONNX Runtime converts layouts where its NHWC kernels apply).</summary>
    public bool PreferNhwc { get; init; } = true;

    /// <summary>
    /// How the device memory arena grows: kSameAsRequested (tight: SD allocates the same sizes every step, so nothing is
    /// wasted on power-of-two rounding) or kNextPowerOfTwo (ONNX Runtime's default).
    /// </summary>
    public string ArenaExtendStrategy { get; init; } = "kSameAsRequested";

    /// <summary>
    /// Capture the UNet's kernels in CUDA graphs and replay them each step (one graph per batch/size shape). Needs the
    /// whole graph on CUDA and I/O bound to fixed device buffers, which the UNet binding then uses.
    /// </summary>
    public bool CudaGraph { get; init; }

    /// <summary>Use the convolution workspace cuDNN asks for (max), which the EXHAUSTIVE search needs to find the fastest algorithms.</summary>
    public bool MaxConvWorkspace { get; init; } = true;

    /// <summary>Accepted values of <see cref="ConvAlgorithmSearch"/>.</summary>
    public static readonly string[] ConvAlgorithmSearchValues = ["EXHAUSTIVE", "HEURISTIC", "DEFAULT"];

    /// <summary>Accepted values of <see cref="ArenaExtendStrategy"/>.</summary>
    public static readonly string[] ArenaExtendStrategyValues = ["kNextPowerOfTwo", "kSameAsRequested"];

    /// <summary>
    /// The provider options as ONNX Runtime's CUDA provider reads them (OrtCUDAProviderOptionsV2 keys).
    /// </summary>
    /// <exception cref="ArgumentException">A value is not one ONNX Runtime accepts (the message names it).</exception>
    public Dictionary<string, string> ToProviderOptions()
    {
        if (Array.IndexOf(ConvAlgorithmSearchValues, ConvAlgorithmSearch) < 0)
            throw new ArgumentException($"cudnn_conv_algo_search must be one of {string.Join(", ", ConvAlgorithmSearchValues)} but was '{ConvAlgorithmSearch}'");
        if (Array.IndexOf(ArenaExtendStrategyValues, ArenaExtendStrategy) < 0)
            throw new ArgumentException($"arena_extend_strategy must be one of {string.Join(", ", ArenaExtendStrategyValues)} but was '{ArenaExtendStrategy}'");
        ArgumentOutOfRangeException.ThrowIfNegative(DeviceId);
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["device_id"] = DeviceId.ToString(CultureInfo.InvariantCulture),
            ["cudnn_conv_algo_search"] = ConvAlgorithmSearch,
            ["cudnn_conv_use_max_workspace"] = MaxConvWorkspace ? "1" : "0",
            ["prefer_nhwc"] = PreferNhwc ? "1" : "0",
            ["arena_extend_strategy"] = ArenaExtendStrategy,
            ["enable_cuda_graph"] = CudaGraph ? "1" : "0",
            // Let the provider copy on its own stream (the default); I/O binding synchronises at bind and read-back.
            ["do_copy_in_default_stream"] = "1",
        };
    }
}
