namespace DiffusionApi.Jobs;

/// <summary>
/// A job's record in the <see cref="IJobStore"/> at one moment: a copy, never updated in place.
/// </summary>
/// <param name="Job">What was asked for.</param>
/// <param name="State">Where it is in its life (see <see cref="JobState"/>).</param>
/// <param name="Step">Denoising steps done in the current attempt.</param>
/// <param name="TotalSteps">Denoising steps in all (<see cref="JobDescriptor.TotalSteps"/>, fixed at admission).</param>
/// <param name="CancelRequested">A client asked to cancel; a worker running the job stops it.</param>
/// <param name="Owner">The worker holding the job while Running, else null.</param>
/// <param name="Attempt">How many times a worker started the job (0 while never started).</param>
/// <param name="Images">The stored images once Succeeded, in request order; else null.</param>
/// <param name="Failure">Why, once Failed; else null.</param>
/// <param name="FinishedAt">When it reached its final state; else null.</param>
public sealed record JobSnapshot(
    JobDescriptor Job,
    JobState State,
    int Step,
    int TotalSteps,
    bool CancelRequested,
    string? Owner,
    int Attempt,
    IReadOnlyList<JobImageRef>? Images,
    JobFailure? Failure,
    DateTimeOffset? FinishedAt);

/// <summary>One image of a finished job: the id under which the <see cref="Storage.IImageStore"/> keeps it, and its seed.</summary>
public sealed record JobImageRef(ulong Seed, string ImageId, string ContentType);

/// <summary>Why a job failed.</summary>
/// <param name="Message">What went wrong, for the client (the job's <c>error</c>, the problem's <c>detail</c>).</param>
/// <param name="Aborted">
/// True when the service stopped (or could not load its model) before the job finished: a retry elsewhere may succeed,
/// so a waiting client gets 503 + Retry-After. False when the engine or the image store failed on this job (500).
/// </param>
/// <param name="TimedOut">True when the job ran past <c>Diffusion:Limits:MaxJobSeconds</c> and was stopped (504).</param>
public sealed record JobFailure(string Message, bool Aborted, bool TimedOut = false);

/// <summary>
/// Who may write a running job: the worker (<paramref name="Owner"/>) that leased it for <paramref name="Attempt"/>.
/// Every worker write to the store carries it, so a stalled worker whose lease was taken over writes nothing.
/// </summary>
public readonly record struct JobFence(string Owner, int Attempt);

/// <summary>A final state with what goes with it.</summary>
public sealed record JobOutcome(JobState State, IReadOnlyList<JobImageRef>? Images = null, JobFailure? Failure = null)
{
    public static JobOutcome Succeeded(IReadOnlyList<JobImageRef> images) => new(JobState.Succeeded, images);

    public static JobOutcome Failed(string message, bool aborted = false) => new(JobState.Failed, Failure: new JobFailure(message, aborted));

    public static JobOutcome TimedOut(string message) => new(JobState.Failed, Failure: new JobFailure(message, Aborted: false, TimedOut: true));

    public static JobOutcome Cancelled { get; } = new(JobState.Cancelled);
}
