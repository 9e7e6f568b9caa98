namespace DiffusionApi.Jobs;

/// <summary>
/// The jobs waiting for a worker, and the leases of those a worker took. Submission and leasing are separate so that the
/// requests of one replica can be served by the workers of another.
/// <para>
/// A worker leases a batch of compatible jobs, renews the lease while it works, and then completes each job (done with
/// it, whatever the outcome) or releases it (give it back, to be leased again). A lease that is not renewed within the
/// lease duration expires: the job is leased again with the next attempt number, and the store's fence
/// (<see cref="JobFence"/>) turns away anything the old holder still writes. A job is never in two leases at once,
/// and a waiting job is never lost: it is leased, taken by <see cref="TakeUnservedAsync"/>, or still waiting.
/// </para>
/// Concurrency: every member may be called concurrently from any thread, by any number of producers and workers; each
/// <see cref="LeaseBatchAsync"/> call gets jobs no other call holds. Only <see cref="Stats"/> is synchronous, and it
/// never blocks on I/O (a shared backend answers from its latest sample).
/// </summary>
public interface IJobQueue
{
    /// <summary>
    /// Admits a job without waiting for room. Checked in this order: this replica stops accepting
    /// (<see cref="EnqueueResult.Draining"/>); a job with the same <see cref="JobDescriptor.IdempotencyKey"/> still in the
    /// store (<see cref="EnqueueResult.Duplicate"/>, with that job's id); the queue holds <see cref="QueueStats.Capacity"/>
    /// waiting jobs (<see cref="EnqueueResult.Full"/>). Accepted is atomic with the job's record: the
    /// <see cref="IJobStore"/> holds it (Queued, attempt 0) before any worker can lease it, and a refused job leaves nothing.
    /// </summary>
    ValueTask<EnqueueOutcome> EnqueueAsync(JobDescriptor job, CancellationToken cancellationToken = default);

    /// <summary>
    /// Leases the next batch for <paramref name="workerId"/>, waiting until there is one. The head is the oldest waiting
    /// job whose record is not final (final ones are removed: they were cancelled or failed while waiting); then come
    /// waiting jobs with the head's <see cref="JobDescriptor.BatchKey"/>, in queue order, while their images fit in
    /// <see cref="BatchLimits.MaxImages"/> (the head alone may exceed it). Jobs passed over keep their places. While the
    /// batch has room it waits for more until <see cref="BatchLimits.MaxDelay"/> after the head was accepted (a head
    /// that waited that long already does not wait again). Each leased job carries its attempt number (1 for the first
    /// lease, one more each time it is leased again).
    /// </summary>
    /// <returns>The batch (never empty), or null once this worker should stop: after <see cref="StopAccepting"/>, a
    /// queue that no other replica serves first hands out every job still waiting; a shared queue answers null at once.</returns>
    ValueTask<IReadOnlyList<LeasedJob>?> LeaseBatchAsync(string workerId, BatchLimits limits, CancellationToken cancellationToken);

    /// <summary>Extends the leases <paramref name="workerId"/> holds on <paramref name="jobs"/> by the lease duration.</summary>
    /// <returns>The ids of the jobs it no longer holds (the lease expired and was taken over, or the job was completed).</returns>
    ValueTask<IReadOnlyList<string>> RenewAsync(string workerId, IReadOnlyCollection<LeasedJob> jobs, CancellationToken cancellationToken = default);

    /// <summary>Ends the lease: the job leaves the queue for good. A lease no longer held is ignored.</summary>
    ValueTask CompleteAsync(string workerId, LeasedJob job, CancellationToken cancellationToken = default);

    /// <summary>
    /// Gives the job back at its old place in the queue (ahead of later jobs), leasable again at once with the next
    /// attempt. The caller has already returned its record to Queued (<see cref="IJobStore.TryRequeueAsync"/>).
    /// A lease no longer held is ignored.
    /// </summary>
    ValueTask ReleaseAsync(string workerId, LeasedJob job, CancellationToken cancellationToken = default);

    /// <summary>1 for the job the next lease takes first (batching aside), 2 for the one after; null when the job is not waiting.</summary>
    ValueTask<int?> PositionOfAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>Waiting and leased jobs, and the bound on waiting jobs.</summary>
    QueueStats Stats { get; }

    /// <summary>This replica stops admitting jobs (they get <see cref="EnqueueResult.Draining"/>); see <see cref="LeaseBatchAsync"/>.</summary>
    void StopAccepting();

    /// <summary>
    /// On final stop, after <see cref="StopAccepting"/>: removes and returns the waiting jobs that no worker will ever
    /// lease once this process is gone, for the caller to fail. A queue no other replica serves answers every waiting
    /// job; a shared queue answers none (they stay for the other replicas).
    /// </summary>
    ValueTask<IReadOnlyList<JobDescriptor>> TakeUnservedAsync(CancellationToken cancellationToken = default);
}

/// <summary>Why <see cref="IJobQueue.EnqueueAsync"/> did or did not take a job.</summary>
public enum EnqueueResult
{
    Accepted,
    Duplicate,
    Full,
    Draining,
}

/// <summary>The answer to a submission: accepted (<paramref name="JobId"/> is the new job's), a duplicate (the earlier job's id), or refused (null).</summary>
public readonly record struct EnqueueOutcome(EnqueueResult Result, string? JobId);

/// <summary>How large a leased batch may grow, and how long to wait for it to grow (counted from the head job's acceptance).</summary>
/// <param name="MaxImages">Images a batch may hold (the head alone may exceed it).</param>
/// <param name="MaxDelay">How long a batch with room waits for more, counted from the head's acceptance.</param>
/// <param name="Models">Only jobs for these models (the worker's configured models); null = any. A shared queue holds
/// every deployment's jobs, and a worker must never lease one it cannot run.</param>
public readonly record struct BatchLimits(int MaxImages, TimeSpan MaxDelay, IReadOnlyCollection<string>? Models = null);

/// <summary>A job a worker holds a lease on, for its <paramref name="Attempt"/>-th run (1 the first time).</summary>
public sealed record LeasedJob(JobDescriptor Job, int Attempt)
{
    /// <summary>The fence that <paramref name="workerId"/>'s writes for this lease carry.</summary>
    public JobFence FenceFor(string workerId) => new(workerId, Attempt);
}

/// <summary>Waiting jobs (counted against <paramref name="Capacity"/>) and leased ones.</summary>
public readonly record struct QueueStats(int Depth, int Capacity, int Leased);
