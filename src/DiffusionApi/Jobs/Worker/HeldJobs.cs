using System.Collections.Concurrent;
using DiffusionApi.Extensions;
using DiffusionApi.Options;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Jobs.Worker;

/// <summary>
/// This worker's leases, from start to end: starts a leased job (store transition, watch for cancels), keeps every held
/// lease alive, and ends each one exactly once, by finishing the job (fenced) and completing the lease, or by giving
/// the job back. A lease the queue reports lost stops its job; the store's fence discards whatever it still writes.
/// Concurrency: safe from the engine loop, the finisher and the renewal loop at once.
/// </summary>
public sealed partial class HeldJobs(
    IJobQueue queue,
    IJobStore store,
    IProgressBus bus,
    JobLifecycle lifecycle,
    IOptions<ScaleoutOptions> scaleout,
    TimeProvider time,
    ILogger<HeldJobs> logger)
{
    private readonly ConcurrentDictionary<string, RunningJob> _running = new(StringComparer.Ordinal);

    /// <summary>This worker's name in leases and fences: unique per process start.</summary>
    public string WorkerId { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Starts a leased job; null when it must not run (cancelled while queued, finished, or taken over), its lease completed.</summary>
    public async Task<RunningJob?> StartAsync(LeasedJob leased)
    {
        var fence = leased.FenceFor(WorkerId);
        if (await lifecycle.TryStartAsync(leased.Job, fence) != StartResult.Started)
        {
            await queue.CompleteAsync(WorkerId, leased);
            return null;
        }
        var job = await RunningJob.WatchAsync(leased, fence, store, bus);
        _running[leased.Job.Id] = job;
        return job;
    }

    /// <summary>Sets the job's final state, then ends its lease.</summary>
    /// <returns>False when the store refused (the lease was lost and another attempt owns the job): nothing was written.</returns>
    public async Task<bool> FinishAsync(RunningJob job, JobOutcome outcome)
    {
        var finished = await lifecycle.TryFinishAsync(job.Job, job.Fence, outcome);
        _running.TryRemove(job.Job.Id, out _);
        await queue.CompleteAsync(WorkerId, job.Lease);
        await job.DisposeAsync();
        return finished;
    }

    /// <summary>Gives the job back unfinished (Queued again, leasable at once at its old place).</summary>
    public async Task ReleaseAsync(RunningJob job)
    {
        await lifecycle.TryRequeueAsync(job.Job, job.Fence);
        _running.TryRemove(job.Job.Id, out _);
        await queue.ReleaseAsync(WorkerId, job.Lease);
        await job.DisposeAsync();
    }

    /// <summary>
    /// Forgets a held job without writing anything, because the job backend cannot be reached: whether its last write
    /// arrived is unknown. Its lease runs out, and the reaper then closes the job if that write finished it, or hands it
    /// to the next lease (the next attempt) if not; anything this worker still writes for it is fenced out.
    /// </summary>
    public async Task AbandonAsync(LeasedJob leased)
    {
        if (!_running.TryRemove(leased.Job.Id, out var job)) return;
        job.LoseLease();
        try
        {
            await job.DisposeAsync();
        }
        catch (Exception ex) when (BackendUnavailableHandler.IsBackendUnavailable(ex))
        {
            // The subscription dies with the connection anyway.
        }
        using (logger.BeginScope(JobTrace.LogScope(leased.Job))) LogAbandoned(logger, leased.Job.Id, leased.Attempt);
    }

    /// <summary>Renews every held lease a few times per lease duration until <paramref name="cancellationToken"/> fires.</summary>
    public async Task KeepLeasesAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(scaleout.Value.LeaseSeconds) / 3, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var held = _running.Values.ToArray();
                if (held.Length == 0) continue;
                try
                {
                    foreach (var jobId in await queue.RenewAsync(WorkerId, Array.ConvertAll(held, j => j.Lease), cancellationToken))
                    {
                        if (!_running.TryGetValue(jobId, out var lost)) continue;
                        using (logger.BeginScope(JobTrace.LogScope(lost.Job))) LogLeaseLost(logger, jobId);
                        lost.LoseLease();
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogRenewFailed(logger, held.Length, ex);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Lost the lease on job {JobId}: another worker took it over; this worker's result for it will be discarded")]
    private static partial void LogLeaseLost(ILogger logger, string jobId);

    [LoggerMessage(3, LogLevel.Warning, "Job {JobId} (attempt {Attempt}) left to its lease's expiry: the job backend is unreachable; the reaper closes or retries it")]
    private static partial void LogAbandoned(ILogger logger, string jobId, int attempt);

    [LoggerMessage(2, LogLevel.Warning, "Renewing the leases of {JobCount} jobs failed; retrying")]
    private static partial void LogRenewFailed(ILogger logger, int jobCount, Exception exception);
}
