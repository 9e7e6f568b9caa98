namespace DiffusionEngine.Optimization;

/// <summary>Which execution provider an optimised graph is for: it decides which fused operators may be used.</summary>
public enum OptimizationTarget
{
    /// <summary>Only operators ONNX Runtime's CPU provider implements (MultiHeadAttention, Gelu, QuickGelu, LayerNormalization).</summary>
    Cpu,

    /// <summary>The CPU set plus the CUDA-only diffusion operators (GroupNorm with fused SiLU).</summary>
    Cuda,
}

/// <summary>What <see cref="ModelOptimizer"/> does to a model folder.</summary>
public sealed record OptimizationOptions
{
    /// <summary>The provider the graphs are optimised for.</summary>
    public OptimizationTarget Target { get; init; } = OptimizationTarget.Cpu;

    /// <summary>Convert to float16 compute (inputs and outputs stay float32; fragile operators stay float32).</summary>
    public bool Float16 { get; init; }

    /// <summary>A short stable text for cache keys and reports, e.g. "cuda-fp16".</summary>
    public string Describe() => $"{Target.ToString().ToLowerInvariant()}-{(Float16 ? "fp16" : "fp32")}";
}
