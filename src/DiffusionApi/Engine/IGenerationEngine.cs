using DiffusionEngine.Pipelines;
using DiffusionEngine.Text;

namespace DiffusionApi.Engine;

/// <summary>
/// The loaded model as the service sees it: the seam between the HTTP service and the engine's
/// <see cref="DiffusionPipeline"/>. Production uses <see cref="PipelineEngine"/>; tests may wrap it (never
/// replace it) to cause faults that cannot be caused for real. Single caller for <see cref="Generate"/>: the worker.
/// </summary>
public interface IGenerationEngine : IDisposable
{
    ModelInfo Model { get; }

    /// <summary>Tokenizes a prompt with the model's own tokenizer. Safe to call concurrently with generation.</summary>
    TokenizedPrompt Tokenize(string prompt);

    /// <summary>Runs one engine batch; see <see cref="DiffusionPipeline.Generate"/>.</summary>
    IReadOnlyList<GeneratedImage> Generate(IReadOnlyList<GenerationRequest> batch, IProgress<StepProgress>? progress, CancellationToken cancellationToken);
}

/// <summary>Loads the configured model. Called once, by the worker, off the request path.</summary>
public interface IGenerationEngineLoader
{
    IGenerationEngine Load(CancellationToken cancellationToken);
}
