using DiffusionEngine.Runtime;

namespace DiffusionEngine.Pipelines;

/// <summary>How a <see cref="StableDiffusionPipeline"/> runs its ONNX models.</summary>
public sealed record PipelineOptions
{
    /// <summary>Where the models run; <see cref="ExecutionProviderKind.Auto"/> prefers CUDA and falls back to CPU.</summary>
    public ExecutionProviderKind ExecutionProvider { get; init; } = ExecutionProviderKind.Auto;

    /// <summary>Threads ONNX Runtime uses inside one operator; 0 keeps ORT's default (one per physical core).</summary>
    public int IntraOpThreads { get; init; }
}
