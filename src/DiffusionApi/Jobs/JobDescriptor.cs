using System.Diagnostics;
using DiffusionApi.Model;

namespace DiffusionApi.Jobs;

/// <summary>
/// A job as data: everything any replica needs to run it and answer for it, and nothing bound to the process that
/// accepted it (that lives in <see cref="JobHandle"/>). Serialized with <see cref="JobJson"/> into a shared queue and
/// job store; immutable once made.
/// </summary>
/// <param name="Id">Server-generated, <c>job_</c> + 32 hex digits.</param>
/// <param name="Spec">The validated request (seed resolved): the worker derives the engine requests from it.</param>
/// <param name="Model">The model that runs it (a shared backend routes by it; equal to <c>Spec.Model</c>).</param>
/// <param name="BatchKey">Jobs with equal keys may share one engine batch (<see cref="JobBatchKey.For"/>, the engine's rule).</param>
/// <param name="TraceParent">The W3C <c>traceparent</c> of the request that made the job: the worker's spans are its children.</param>
/// <param name="CreatedAt">When the job was accepted; queue wait, batching delay and job duration count from it.</param>
/// <param name="IdempotencyKey">The client's key: a second submission with it answers the first job (null: none).</param>
/// <param name="Kind">Who collects the result: the waiting request (<see cref="JobKind.Sync"/>) or a poller (<see cref="JobKind.Async"/>).</param>
public sealed record JobDescriptor(
    string Id,
    GenerationSpec Spec,
    string Model,
    string BatchKey,
    string? TraceParent,
    DateTimeOffset CreatedAt,
    string? IdempotencyKey,
    JobKind Kind)
{
    /// <summary>
    /// The denoising steps its progress counts to, known at admission (<see cref="JobBatchKey.Describe"/>: PNDM's warm-up
    /// step included), so that <c>total_steps</c> does not change when the job starts.
    /// </summary>
    public int TotalSteps { get; init; }

    /// <summary>
    /// The owner hash of the API key that created it (<see cref="Extensions.JobOwners"/>; never the key), or null when
    /// the service takes no keys. Other keys get 404 for the job and its images.
    /// </summary>
    public string? Owner { get; init; }

    /// <summary>A new job for <paramref name="spec"/>, batched under <paramref name="batchKey"/> (<see cref="JobBatchKey.For"/>), in the trace context of the current activity;
    /// <paramref name="totalSteps"/> is what its progress counts to (the spec's steps when not given).</summary>
    public static JobDescriptor Create(GenerationSpec spec, string batchKey, JobKind kind, string? idempotencyKey, TimeProvider time, int? totalSteps = null) =>
        new("job_" + Guid.NewGuid().ToString("N"), spec, spec.Model, batchKey, CurrentTraceParent(), time.GetUtcNow(), idempotencyKey, kind)
        {
            TotalSteps = totalSteps ?? spec.Steps,
        };

    private static string? CurrentTraceParent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity ? activity.Id : null;
}

/// <summary>Who collects a job's result, which decides how long its record is kept and whether /v1/jobs shows it.</summary>
public enum JobKind
{
    /// <summary>The submitting request waits for it (/v1/generate, /v1/images/generations). Kept briefly after it finishes, never listed.</summary>
    Sync,

    /// <summary>POST /v1/jobs: polled on /v1/jobs/{id}; kept, with its images, for the retention period, then answered 410.</summary>
    Async,
}
