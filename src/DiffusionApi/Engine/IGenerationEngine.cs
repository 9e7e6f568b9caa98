using DiffusionEngine.Pipelines;

namespace DiffusionApi.Engine;

/// <summary>
/// A loaded model as the service sees it: the seam between the HTTP service and the engine's
/// <see cref="DiffusionPipeline"/>. Production uses <see cref="PipelineEngine"/>; tests may wrap it (never
/// replace it) to cause faults that cannot be caused for real. Single caller for <see cref="Generate"/> at a time: the worker.
/// </summary>
public interface IGenerationEngine : IDisposable
{
    /// <summary>What the model runs, named as configured; its <see cref="ModelInfo.Prompts"/> reads prompts as the engine will (safe to use concurrently with generation).</summary>
    ModelInfo Model { get; }

    /// <summary>Runs one engine batch; see <see cref="DiffusionPipeline.Generate"/>.</summary>
    IReadOnlyList<GeneratedImage> Generate(IReadOnlyList<GenerationRequest> batch, IProgress<StepProgress>? progress, CancellationToken cancellationToken);
}

/// <summary>Loads a configured model. Called by <see cref="ModelRegistry"/>, one load at a time, off the request path's threads.</summary>
public interface IGenerationEngineLoader
{
    IGenerationEngine Load(ModelDefinition model, CancellationToken cancellationToken);

    /// <summary>
    /// What a configured model accepts, for an API-only node: loaded, described and unloaded again, so that no
    /// sessions stay in memory. Loaders that can do it without a GPU should (<see cref="PipelineEngineLoader"/> does).
    /// </summary>
    ModelInfo Describe(ModelDefinition model, CancellationToken cancellationToken)
    {
        using var engine = Load(model, cancellationToken);
        return engine.Model;
    }
}
