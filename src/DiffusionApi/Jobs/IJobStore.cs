namespace DiffusionApi.Jobs;

/// <summary>
/// Every job's record (<see cref="JobSnapshot"/>) from acceptance until it expires, readable from any replica. Records are
/// created by <see cref="IJobQueue.EnqueueAsync"/>, atomically with admission.
/// <para>
/// State machine (see <see cref="JobState"/>): Queued → Running (<see cref="TryStartAsync"/>) → Succeeded | Failed |
/// Cancelled (<see cref="TryFinishAsync"/>), Running → Queued (<see cref="TryRequeueAsync"/>), Queued → Cancelled
/// (<see cref="RequestCancelAsync"/>) or Failed (<see cref="TryFinishAsync"/> without a fence). A final state never changes.
/// </para>
/// <para>
/// Fencing: a worker's writes carry the <see cref="JobFence"/> (owner + attempt) of its lease and are applied only while
/// the record is Running with exactly that owner and attempt; anything else is refused (false), never applied. So a
/// stalled worker whose lease was taken over cannot overwrite the newer attempt, and no job finishes twice.
/// </para>
/// <para>
/// Expiry: a finished job is kept for the retention period (an async job; its images are kept as long) or briefly
/// (a sync job, long enough for its waiting request to read it), counted from when it finished; queued and running
/// jobs never expire. An expired async job reads as <see cref="JobPresence.Gone"/> for one more retention period,
/// then as <see cref="JobPresence.NotFound"/>; an expired sync job reads as NotFound at once.
/// </para>
/// Concurrency: every member may be called concurrently from any thread and any replica; each write is atomic.
/// </summary>
public interface IJobStore
{
    /// <summary>The job's record, or whether it expired (Gone) or never existed here (NotFound).</summary>
    ValueTask<JobLookup> GetAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Queued → Running for <paramref name="fence"/>: owner set, attempt = the fence's, progress reset. Also takes over a
    /// Running job whose recorded attempt is lower (its lease expired). A pending cancel request stays set.
    /// </summary>
    ValueTask<StartResult> TryStartAsync(string jobId, JobFence fence, CancellationToken cancellationToken = default);

    /// <summary>Records <paramref name="step"/> of <paramref name="totalSteps"/> for a Running job held by <paramref name="fence"/>.</summary>
    ValueTask<bool> TryReportProgressAsync(string jobId, JobFence fence, int step, int totalSteps, CancellationToken cancellationToken = default);

    /// <summary>Running (held by <paramref name="fence"/>) → Queued: the worker gives the job back unfinished; the attempt number stays.</summary>
    ValueTask<bool> TryRequeueAsync(string jobId, JobFence fence, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets a final state: with a fence, from Running held by it; without one (a job no worker holds), from Queued only.
    /// A Succeeded outcome keeps the image ids, never image bytes.
    /// </summary>
    /// <returns>True when this call finished the job; false when the fence or the state did not allow it (nothing changed).</returns>
    ValueTask<bool> TryFinishAsync(string jobId, JobFence? fence, JobOutcome outcome, CancellationToken cancellationToken = default);

    /// <summary>
    /// A client's cancel: a Queued job becomes Cancelled at once (<see cref="CancelResult.Cancelled"/>); a Running job gets
    /// its cancel flag (<see cref="CancelResult.Requested"/>: its worker stops it and finishes it Cancelled).
    /// </summary>
    /// <returns>The result and the record after it (null when NotFound or Gone).</returns>
    ValueTask<CancelOutcome> RequestCancelAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>Frees what expired (records past their expiry, then their Gone markers past theirs); returns how many records expired.</summary>
    ValueTask<int> SweepExpiredAsync(CancellationToken cancellationToken = default);
}

/// <summary>Whether a job id names a record, an expired job, or nothing.</summary>
public enum JobPresence
{
    Found,
    Gone,
    NotFound,
}

/// <summary>
/// An <see cref="IJobStore.GetAsync"/> answer: <see cref="Job"/> is set exactly when <see cref="Presence"/> is Found;
/// <see cref="ExpiredOwner"/> is the owner hash an expired job had (Gone only), so that another key's 410 tells it nothing.
/// </summary>
public readonly record struct JobLookup(JobPresence Presence, JobSnapshot? Job, string? ExpiredOwner = null)
{
    public static JobLookup Gone { get; } = new(JobPresence.Gone, null);

    public static JobLookup GoneFor(string? owner) => new(JobPresence.Gone, null, owner);

    public static JobLookup NotFound { get; } = new(JobPresence.NotFound, null);

    public static JobLookup Found(JobSnapshot job) => new(JobPresence.Found, job);
}

/// <summary>What <see cref="IJobStore.TryStartAsync"/> did.</summary>
public enum StartResult
{
    /// <summary>The job is Running for the caller's fence.</summary>
    Started,

    /// <summary>The job is final (cancelled while it waited, or already finished): do not run it.</summary>
    Finished,

    /// <summary>A newer attempt holds it, or the record is gone: do not run it.</summary>
    Superseded,
}

/// <summary>What <see cref="IJobStore.RequestCancelAsync"/> did.</summary>
public enum CancelResult
{
    /// <summary>It was Queued and is now Cancelled.</summary>
    Cancelled,

    /// <summary>It is Running; its worker will stop it.</summary>
    Requested,

    /// <summary>It had already finished; nothing changed.</summary>
    AlreadyFinished,

    Gone,
    NotFound,
}

/// <summary>A cancel's result, with the record after it (null when Gone or NotFound).</summary>
public readonly record struct CancelOutcome(CancelResult Result, JobSnapshot? Job);
