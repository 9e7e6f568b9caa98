namespace DiffusionApi.Jobs;

/// <summary>
/// The process-local side of a job this replica accepted for a waiting request: the descriptor, the link from the
/// request's cancellation to a cancel of the job (the client hung up), and the wait for its result. Nothing in it is
/// needed to run the job; a worker on any replica can.
/// Concurrency: one request uses it; dispose it when the request ends.
/// </summary>
public sealed class JobHandle : IDisposable
{
    /// <summary>How often a waiter re-reads the record even without an event (events are best effort).</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    private readonly JobWatcher _watcher;
    private readonly CancellationTokenRegistration _cancelWhen;

    internal JobHandle(JobDescriptor job, JobWatcher watcher, JobLifecycle lifecycle, CancellationToken cancelWhen)
    {
        Job = job;
        _watcher = watcher;
        if (cancelWhen.CanBeCanceled) _cancelWhen = cancelWhen.Register(() => lifecycle.RequestCancelInBackground(job.Id));
    }

    public JobDescriptor Job { get; }

    public string Id => Job.Id;

    /// <summary>The job's final record (Succeeded, Failed or Cancelled).</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    public Task<JobSnapshot> WaitForFinishAsync(CancellationToken cancellationToken) =>
        _watcher.WaitForFinishAsync(Job.Id, PollInterval, cancellationToken);

    public void Dispose() => _cancelWhen.Dispose();
}
