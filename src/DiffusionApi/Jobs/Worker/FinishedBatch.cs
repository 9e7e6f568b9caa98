using DiffusionEngine.Pipelines;

namespace DiffusionApi.Jobs.Worker;

/// <summary>
/// A batch the engine is done with, on its way from the <see cref="BatchRunner"/> to the <see cref="JobFinisher"/>:
/// the jobs in batch order and their images, job after job (each job's <c>Spec.Count</c> images in request order).
/// The decoded RGB buffers are owned by it until the finisher has encoded them.
/// </summary>
public sealed record FinishedBatch(IReadOnlyList<RunningJob> Jobs, IReadOnlyList<GeneratedImage> Images, ModelInfo Model);
