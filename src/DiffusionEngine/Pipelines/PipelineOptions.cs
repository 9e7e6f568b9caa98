using DiffusionEngine.Runtime;
using DiffusionEngine.Text.Prompts;

namespace DiffusionEngine.Pipelines;

/// <summary>How a <see cref="DiffusionPipeline"/> runs its ONNX models and reads prompts.</summary>
public sealed record PipelineOptions
{
    /// <summary>Where the models run; <see cref="ExecutionProviderKind.Auto"/> prefers CUDA and falls back to CPU.</summary>
    public ExecutionProviderKind ExecutionProvider { get; init; } = ExecutionProviderKind.Auto;

    /// <summary>Threads ONNX Runtime uses inside one operator; 0 = one per physical core (<see cref="SessionTuning.PhysicalCores"/>).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>
    /// The most 75-token chunks a prompt (or negative prompt) may take (A1111 syntax; <see cref="PromptTokenizer.DefaultMaxChunks"/>
    /// by default); a longer one is rejected. Each chunk widens every UNet cross-attention by 77 tokens.
    /// </summary>
    public int MaxPromptChunks { get; init; } = PromptTokenizer.DefaultMaxChunks;

    /// <summary>Spinning, arena, memory pattern and I/O binding (every provider).</summary>
    public SessionTuning Session { get; init; } = new();

    /// <summary>Whether to run an optimised copy of the graphs (fused attention etc.; see <see cref="ModelOptimization"/>).</summary>
    public ModelOptimization Optimize { get; init; } = ModelOptimization.Off;

    /// <summary>Where <see cref="ModelOptimization.Auto"/> keeps optimised copies; required with it.</summary>
    public string? OptimizedModelCache { get; init; }

    /// <summary>CUDA provider options (cuDNN algorithm search, NHWC, arena growth, CUDA graphs); used only on CUDA.</summary>
    public CudaSettings Cuda { get; init; } = new();
}
