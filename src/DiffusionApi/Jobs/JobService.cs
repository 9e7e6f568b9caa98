using DiffusionApi.Engine;
using DiffusionApi.Model;
using DiffusionApi.Options;
using DiffusionApi.Telemetry;
using DiffusionEngine.Pipelines;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Jobs;

/// <summary>What happened to a submitted request: queued as a job, invalid (every bad field), or not taken now.</summary>
public sealed record SubmitOutcome(JobHandle? Job, Dictionary<string, string[]>? Errors, string? UnavailableReason);

/// <summary>
/// Turns a request into a queued job: validates it against the limits and the model it names (the default when it
/// names none; <see cref="ModelRegistry.DescribeAsync"/> loads one never loaded before), then offers it to the
/// <see cref="IJobQueue"/> without waiting for room. Used by every generation endpoint.
/// </summary>
public sealed partial class JobService(
    IJobQueue queue,
    IJobStore store,
    JobWatcher watcher,
    JobLifecycle lifecycle,
    ModelRegistry models,
    DiffusionMetrics metrics,
    IOptions<LimitsOptions> limits,
    IOptions<PromptsOptions> prompts,
    TimeProvider time,
    ILogger<JobService> logger)
{
    /// <summary>
    /// Validates <paramref name="request"/> and queues it as a job of <paramref name="kind"/>, cancelled when
    /// <paramref name="cancelWhen"/> fires (the waiting request's RequestAborted; none for async jobs). Images uploaded as
    /// files come as <paramref name="uploads"/> (else the request's base64 <c>image</c>/<c>mask</c> are read). With an
    /// <paramref name="idempotencyKey"/> seen before (on any replica, while that job is kept), answers that job instead.
    /// </summary>
    public async Task<SubmitOutcome> SubmitAsync(ImageGenerationRequest request, JobKind kind, CancellationToken cancelWhen, string? idempotencyKey = null,
        ImageUploads? uploads = null, string? owner = null)
    {
        if (models.IsDraining)
        {
            metrics.Rejected(EnqueueResult.Draining);
            return new(null, null, ShuttingDown);
        }
        var (model, modelErrors, unavailable) = await DescribeModelAsync(request.Model, "model", cancelWhen);
        if (model is null) return new(null, modelErrors, unavailable);

        var spec = GenerationRequestValidator.Validate(request, limits.Value, model, RandomSeed, out var errors, prompts.Value, uploads);
        if (spec is null) return new(null, errors, null);
        return await EnqueueAsync(spec, kind, cancelWhen, idempotencyKey, owner);
    }

    /// <summary>
    /// The model a request names in <paramref name="field"/> (the default when <paramref name="name"/> is empty): what it
    /// is, or a 400's errors naming the field and every model, or why it is unavailable now (503: still starting,
    /// shutting down, or it failed to load).
    /// </summary>
    public async Task<(ModelInfo? Model, Dictionary<string, string[]>? Errors, string? Unavailable)> DescribeModelAsync(
        string? name, string field, CancellationToken cancellationToken)
    {
        if (models.IsDraining) return (null, null, ShuttingDown);
        if (!models.IsStarted) return (null, null, models.Describe());
        if (models.Find(name) is not { } definition) return (null, new() { [field] = [models.UnknownModel(field, name!)] }, null);
        try
        {
            return (await models.DescribeAsync(definition, cancellationToken), null, null);
        }
        catch (ModelLoadFailedException ex)
        {
            return (null, null, ex.Message);
        }
    }

    /// <summary>
    /// Queues a <paramref name="spec"/> that its surface validated already (the A1111 API validates through
    /// <see cref="GenerationRequestValidator"/> too, then adds what only it has: variation seeds).
    /// </summary>
    public async Task<SubmitOutcome> EnqueueAsync(GenerationSpec spec, JobKind kind, CancellationToken cancelWhen, string? idempotencyKey = null, string? owner = null)
    {
        if (models.IsDraining)
        {
            metrics.Rejected(EnqueueResult.Draining);
            return new(null, null, ShuttingDown);
        }
        // The model was described when the spec was validated: this answers from the registry's cache.
        var (model, modelErrors, unavailable) = await DescribeModelAsync(spec.Model, "model", cancelWhen);
        if (model is null) return new(null, modelErrors, unavailable);
        string batchKey;
        int totalSteps;
        try
        {
            (batchKey, totalSteps) = JobBatchKey.Describe(spec, model);
        }
        catch (ArgumentException ex)
        {
            // The validator checks the key first (GenerationRequestValidator.CheckEngineKey); this is only a safety net.
            return new(null, GenerationRequestValidator.EngineKeyErrors(ex), null);
        }
        var job = JobDescriptor.Create(spec, batchKey, kind, idempotencyKey, time, totalSteps) with { Owner = owner };
        var outcome = await queue.EnqueueAsync(job);
        using var scope = logger.BeginScope(JobTrace.LogScope(job));
        switch (outcome.Result)
        {
            case EnqueueResult.Accepted:
                LogQueued(logger, job.Id, spec.Count, spec.Width, spec.Height, spec.Steps, spec.Seed, spec.User);
                return new(new JobHandle(job, watcher, lifecycle, cancelWhen), null, null);
            case EnqueueResult.Duplicate:
                // The client's key names an earlier job: answer for that one (unless it expired just now). A repeat does
                // not own it, so its hanging up cancels nothing.
                if (await store.GetAsync(outcome.JobId!) is not { Job: { } earlier })
                    return new(null, null, "the earlier job with this idempotency key expired just now; retry");
                // Another key's job is not this caller's to see, not even through its idempotency key.
                if (earlier.Job.Owner != owner)
                    return new(null, new() { [Apis.IdempotencyKeyHeader.Name] = ["this Idempotency-Key is already used by another API key's job; choose another"] }, null);
                return new(new JobHandle(earlier.Job, watcher, lifecycle, CancellationToken.None), null, null);
            case EnqueueResult.Full:
                metrics.Rejected(outcome.Result);
                LogRejected(logger, job.Id, queue.Stats.Capacity);
                return new(null, null, $"the queue is full ({queue.Stats.Capacity} jobs waiting); retry later");
            default:
                metrics.Rejected(EnqueueResult.Draining);
                return new(null, null, ShuttingDown);
        }
    }

    /// <summary>The models requests may name.</summary>
    public ModelRegistry Models => models;

    private const string ShuttingDown = "the service is shutting down; retry on another instance";

    private static ulong RandomSeed() => (ulong)Random.Shared.NextInt64() ^ ((ulong)Random.Shared.Next() << 63);

    [LoggerMessage(1, LogLevel.Information, "Job {JobId} queued: {ImageCount} images {Width}x{Height}, {Steps} steps, seed {Seed}, user {User}")]
    private static partial void LogQueued(ILogger logger, string jobId, int imageCount, int width, int height, int steps, ulong seed, string? user);

    // Debug: under overload a line per refusal would add load; diffusion.requests.rejected counts them.
    [LoggerMessage(2, LogLevel.Debug, "Job {JobId} rejected: the queue is full ({Capacity} jobs)")]
    private static partial void LogRejected(ILogger logger, string jobId, int capacity);
}
