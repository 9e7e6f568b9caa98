using DiffusionApi.Engine;
using DiffusionApi.Model;
using DiffusionApi.Options;
using DiffusionApi.Telemetry;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Jobs;

/// <summary>What happened to a submitted request: queued as a job, invalid (every bad field), or not taken now.</summary>
public sealed record SubmitOutcome(GenerationJob? Job, Dictionary<string, string[]>? Errors, string? UnavailableReason);

/// <summary>
/// Turns a request into a queued job: validates it against the limits and the loaded model, then offers it to the
/// bounded queue without waiting. Used by every generation endpoint.
/// </summary>
public sealed partial class JobService(
    JobQueue queue,
    ModelHost host,
    DiffusionMetrics metrics,
    IOptions<LimitsOptions> limits,
    TimeProvider time,
    ILogger<JobService> logger)
{
    public SubmitOutcome Submit(ImageGenerationRequest request, bool storeImages, CancellationToken jobCancellation)
    {
        if (host.IsDraining)
        {
            metrics.Rejected(EnqueueResult.Draining);
            return new(null, null, "the service is shutting down; retry on another instance");
        }
        if (host.Engine is not { } engine) return new(null, null, host.Describe());

        var spec = GenerationRequestValidator.Validate(request, limits.Value, engine.Model, RandomSeed, out var errors);
        if (spec is null) return new(null, errors, null);

        var job = new GenerationJob(spec, storeImages, jobCancellation, time);
        var result = queue.TryEnqueue(job);
        using var scope = logger.BeginScope(job.LogScope);
        switch (result)
        {
            case EnqueueResult.Accepted:
                LogQueued(logger, job.Id, spec.Count, spec.Width, spec.Height, spec.Steps, spec.Seed, spec.User);
                return new(job, null, null);
            case EnqueueResult.Full:
                metrics.Rejected(result);
                LogRejected(logger, job.Id, queue.Capacity);
                return new(null, null, $"the queue is full ({queue.Capacity} jobs waiting); retry later");
            default:
                metrics.Rejected(result);
                return new(null, null, "the service is shutting down; retry on another instance");
        }
    }

    private static ulong RandomSeed() => (ulong)Random.Shared.NextInt64() ^ ((ulong)Random.Shared.Next() << 63);

    [LoggerMessage(1, LogLevel.Information, "Job {JobId} queued: {ImageCount} images {Width}x{Height}, {Steps} steps, seed {Seed}, user {User}")]
    private static partial void LogQueued(ILogger logger, string jobId, int imageCount, int width, int height, int steps, ulong seed, string? user);

    // Debug: under overload a line per refusal would add load; diffusion.requests.rejected counts them.
    [LoggerMessage(2, LogLevel.Debug, "Job {JobId} rejected: the queue is full ({Capacity} jobs)")]
    private static partial void LogRejected(ILogger logger, string jobId, int capacity);
}
