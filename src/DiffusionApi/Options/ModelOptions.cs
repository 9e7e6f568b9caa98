using System.ComponentModel.DataAnnotations;

namespace DiffusionApi.Options;

/// <summary>Which model the service loads and how (<c>Diffusion:Model</c>).</summary>
public sealed class ModelOptions
{
    public const string SectionName = "Diffusion:Model";

    /// <summary>A diffusers/Optimum ONNX model folder; empty uses the built-in tiny model under the data directory.</summary>
    public string Path { get; set; } = "";

    /// <summary>auto (CUDA when it loads, else CPU), cuda or cpu.</summary>
    [RegularExpression("^(?i)(auto|cuda|cpu)$", ErrorMessage = "Diffusion:Model:ExecutionProvider must be auto, cuda or cpu.")]
    public string ExecutionProvider { get; set; } = "auto";

    /// <summary>ONNX Runtime intra-op threads; 0 lets ONNX Runtime choose.</summary>
    [Range(0, 1024)]
    public int IntraOpThreads { get; set; }

    /// <summary>
    /// off (default): load the model's own graphs. auto: on first load write an optimised copy (fused attention,
    /// GroupNorm, GELU, SiLU; float16 on CUDA) under &lt;data directory&gt;/optimized, keyed by the source files' hashes and
    /// the ONNX Runtime version, and load that (again on later starts).
    /// </summary>
    [RegularExpression("^(?i)(off|auto)$", ErrorMessage = "Diffusion:Model:Optimize must be off or auto.")]
    public string Optimize { get; set; } = "off";

    /// <summary>CUDA: cuDNN convolution algorithm search, EXHAUSTIVE (default; best kernels for SD's fixed shapes), HEURISTIC or DEFAULT.</summary>
    [RegularExpression("^(EXHAUSTIVE|HEURISTIC|DEFAULT)$", ErrorMessage = "Diffusion:Model:CudaConvAlgorithmSearch must be EXHAUSTIVE, HEURISTIC or DEFAULT.")]
    public string CudaConvAlgorithmSearch { get; set; } = "EXHAUSTIVE";

    /// <summary>CUDA: run convolutions in NHWC where ONNX Runtime can (default true).</summary>
    public bool CudaPreferNhwc { get; set; } = true;

    /// <summary>CUDA: device memory arena growth, kSameAsRequested (default) or kNextPowerOfTwo.</summary>
    [RegularExpression("^(kSameAsRequested|kNextPowerOfTwo)$", ErrorMessage = "Diffusion:Model:CudaArenaExtendStrategy must be kSameAsRequested or kNextPowerOfTwo.")]
    public string CudaArenaExtendStrategy { get; set; } = "kSameAsRequested";

    /// <summary>CUDA: capture the UNet in CUDA graphs, one per batch/size (default false).</summary>
    public bool CudaGraphs { get; set; }

    /// <summary>Run one small generation after loading so the first user request does not pay the warm-up cost.</summary>
    public bool WarmUp { get; set; } = true;
}
