namespace DiffusionApi.Jobs.Worker;

/// <summary>
/// A job this worker leased and started: its lease, the fence its writes carry, and <see cref="Stopping"/>, which fires
/// when it should stop early: a client cancelled it (from any replica: the bus says so, and the record's flag is checked
/// once the subscription is in place) or this worker lost its lease.
/// Concurrency: the watch runs on its own; <see cref="Stopping"/> may fire on any thread. Disposed by <see cref="HeldJobs"/>.
/// </summary>
public sealed class RunningJob : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly IJobSubscription _subscription;
    private readonly Task _watch;
    private int _disposed;
    private volatile bool _leaseLost;

    private RunningJob(LeasedJob lease, JobFence fence, IJobSubscription subscription)
    {
        Lease = lease;
        Fence = fence;
        _subscription = subscription;
        _watch = ListenForCancelAsync();
    }

    public LeasedJob Lease { get; }

    public JobDescriptor Job => Lease.Job;

    public JobFence Fence { get; }

    /// <summary>Fires when the job should stop: cancelled by a client, or no longer this worker's.</summary>
    public CancellationToken Stopping => _stop.Token;

    /// <summary>Another worker took the job over: nothing this one writes for it counts.</summary>
    public bool LeaseLost => _leaseLost;

    /// <summary>Starts watching a job this worker has just started (the store said Started for <paramref name="fence"/>).</summary>
    public static async Task<RunningJob> WatchAsync(LeasedJob lease, JobFence fence, IJobStore store, IProgressBus bus)
    {
        var job = new RunningJob(lease, fence, await bus.SubscribeAsync(lease.Job.Id));
        // Subscribed first, then read: a cancel requested before the subscription is seen here, one after it on the bus.
        if ((await store.GetAsync(lease.Job.Id)).Job is not { CancelRequested: false } record || record.Owner != fence.Owner || record.Attempt != fence.Attempt)
            job.Stop();
        return job;
    }

    internal void LoseLease()
    {
        _leaseLost = true;
        Stop();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _subscription.DisposeAsync();
        await _watch;
        _stop.Dispose();
    }

    private async Task ListenForCancelAsync()
    {
        await foreach (var jobEvent in _subscription.Events.ReadAllAsync())
        {
            if (jobEvent.Kind == JobEventKind.CancelRequested) Stop();
        }
    }

    private void Stop()
    {
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Finished meanwhile: nothing left to stop.
        }
    }
}
