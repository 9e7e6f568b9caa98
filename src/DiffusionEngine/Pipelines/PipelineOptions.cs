using DiffusionEngine.Runtime;
using DiffusionEngine.Text.Prompts;

namespace DiffusionEngine.Pipelines;

/// <summary>How a <see cref="DiffusionPipeline"/> runs its ONNX models and reads prompts.</summary>
public sealed record PipelineOptions
{
    /// <summary>Where the models run; <see cref="ExecutionProviderKind.Auto"/> prefers CUDA and falls back to CPU.</summary>
    public ExecutionProviderKind ExecutionProvider { get; init; } = ExecutionProviderKind.Auto;

    /// <summary>Threads ONNX Runtime uses inside one operator; 0 keeps ORT's default (one per physical core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>
    /// The most 75-token chunks a prompt (or negative prompt) may take (A1111 syntax; <see cref="PromptTokenizer.DefaultMaxChunks"/>
    /// by default); a longer one is rejected. Each chunk widens every UNet cross-attention by 77 tokens.
    /// </summary>
    public int MaxPromptChunks { get; init; } = PromptTokenizer.DefaultMaxChunks;
}
