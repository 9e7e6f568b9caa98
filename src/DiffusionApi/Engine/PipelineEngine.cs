using DiffusionEngine.Pipelines;

namespace DiffusionApi.Engine;

/// <summary>
/// The real engine: a <see cref="DiffusionPipeline"/> that owns the ONNX Runtime sessions, under the name the
/// configuration gives the model (<paramref name="name"/>; the folder's name when it gives none).
/// </summary>
public sealed class PipelineEngine(DiffusionPipeline pipeline, string name) : IGenerationEngine
{
    public ModelInfo Model { get; } = pipeline.Model with { Name = name };

    /// <summary>
    /// Runs the batch as one engine batch per engine <see cref="BatchKey"/>, in order. The gatherer groups jobs by the
    /// same key (<see cref="Jobs.JobBatchKey"/>), so a gathered batch has one; jobs keyed by a replica of an older version
    /// (during a rolling update, on a shared queue) may not, and run as consecutive engine batches here instead of failing.
    /// </summary>
    public IReadOnlyList<GeneratedImage> Generate(IReadOnlyList<GenerationRequest> batch, IProgress<StepProgress>? progress, CancellationToken cancellationToken)
    {
        var groups = new List<(BatchKey Key, List<int> Indices)>();
        for (var i = 0; i < batch.Count; i++)
        {
            var key = pipeline.BatchKeyFor(batch[i]);
            var group = groups.FindIndex(g => g.Key == key);
            if (group < 0) groups.Add((key, [i]));
            else groups[group].Indices.Add(i);
        }
        if (groups.Count <= 1) return pipeline.Generate(batch, progress, cancellationToken);

        var images = new GeneratedImage[batch.Count];
        // Live previews name images by their index in one engine batch: a split batch reports steps only.
        var stepsOnly = progress is null ? null : new Progress(progress.Report);
        foreach (var (_, indices) in groups)
        {
            var generated = pipeline.Generate(indices.ConvertAll(i => batch[i]), stepsOnly, cancellationToken);
            for (var j = 0; j < indices.Count; j++) images[indices[j]] = generated[j];
        }
        return images;
    }

    public void Dispose() => pipeline.Dispose();

    /// <summary>Forwards step reports only (not an <see cref="ILatentPreviewObserver"/>), synchronously on the engine's thread.</summary>
    private sealed class Progress(Action<StepProgress> report) : IProgress<StepProgress>
    {
        public void Report(StepProgress value) => report(value);
    }
}
