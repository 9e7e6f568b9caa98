using System.Threading.Channels;
using DiffusionApi.Engine;
using DiffusionApi.Extensions;
using DiffusionApi.Options;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Jobs.Worker;

/// <summary>
/// The worker's loop and its life: once <see cref="EngineStartup"/> has the start-up models ready, it leases batch after
/// batch from the <see cref="IJobQueue"/> (each batch of one model), runs each with the <see cref="BatchRunner"/> on its
/// model (loaded on demand by the <see cref="ModelRegistry"/>) and hands it to the
/// <see cref="JobFinisher"/> through a one-batch hand-off (encoding and storing batch n overlap the engine work of
/// batch n+1; a slow store holds the engine back by one batch at most), while <see cref="HeldJobs"/> renews the leases.
/// On host stop it drains: the queue stops taking jobs, and what was accepted runs until shortly before the host's
/// shutdown timeout; then the engine is stopped, held jobs are given back, and jobs no other worker will serve fail
/// (503 + Retry-After to their clients, in the time left before the server stops; each logged by id). The drain runs in the host's "stopping" phase, before any hosted service stops, so Kestrel still listens
/// meanwhile: new jobs get 503 with Retry-After and /health/ready answers 503, instead of connections being refused.
/// On an API-only node (<see cref="NodeOptions"/>) it only describes the model for the endpoints and runs no loop.
/// Concurrency: the engine is called from this loop only, one batch at a time.
/// </summary>
public sealed partial class GenerationWorker(
    EngineStartup startup,
    IJobQueue queue,
    HeldJobs held,
    BatchRunner runner,
    JobFinisher finisher,
    JobLifecycle lifecycle,
    ModelRegistry registry,
    IOptions<BatchingOptions> batching,
    IOptions<NodeOptions> node,
    IHostApplicationLifetime lifetime,
    IOptions<HostOptions> hostOptions,
    ILogger<GenerationWorker> logger) : BackgroundService, IHostedLifecycleService
{
    /// <summary>Engine batches done and waiting to be finished while the engine runs the next.</summary>
    public const int HandOffCapacity = 1;

    private readonly CancellationTokenSource _abort = new();
    private int _giveUpScheduled;
    private readonly BatchLimits _limits = new(batching.Value.MaxBatchSize, TimeSpan.FromMilliseconds(batching.Value.MaxDelayMs));

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // New jobs get 503 from the moment the host is asked to stop, before the server closes its listeners.
        lifetime.ApplicationStopping.Register(BeginDraining);
        return base.StartAsync(cancellationToken);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Drains before the server stops: the host calls this on every lifecycle service before it stops any of them
    /// (Kestrel included), with the token of the same shutdown timeout.
    /// </summary>
    public Task StoppingAsync(CancellationToken cancellationToken) => DrainAsync(cancellationToken);

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override Task StopAsync(CancellationToken cancellationToken) => DrainAsync(cancellationToken);

    public override void Dispose()
    {
        _abort.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var abort = _abort.Token;
        if (node.Value.IsApiOnly)
        {
            // Diffusion:Node:Role=Api: requests are validated against the models' descriptions and queued for the
            // worker nodes; the drain above still applies (503 for new jobs, readiness off).
            if (await startup.DescribeAsync(abort) is not null) queue.StopAccepting();
            return;
        }
        if (await startup.LoadAsync(abort) is { } failure)
        {
            queue.StopAccepting();
            await FailUnservedAsync(failure);
            return;
        }

        var handOff = Channel.CreateBounded<FinishedBatch>(new BoundedChannelOptions(HandOffCapacity) { SingleReader = true, SingleWriter = true });
        var finishing = finisher.RunAsync(handOff.Reader, abort);
        using var stopRenewing = new CancellationTokenSource();
        var renewing = held.KeepLeasesAsync(stopRenewing.Token);
        var drained = false;
        try
        {
            // Only this worker's models: a shared queue may hold other deployments' jobs for other workers.
            var limits = _limits with { Models = registry.Models.Select(m => m.Name).ToArray() };
            // Checked before each lease: once the service gives up, a job just given back must not be leased again.
            while (!abort.IsCancellationRequested && await queue.LeaseBatchAsync(held.WorkerId, limits, abort) is { } batch)
            {
                FinishedBatch? done;
                try
                {
                    done = await runner.RunAsync(batch, abort);
                }
                catch (Exception ex) when (BackendUnavailableHandler.IsBackendUnavailable(ex))
                {
                    // Redis went away mid-batch: the service keeps running and leases again once it is back; these
                    // jobs' leases run out and the reaper retries them (nothing this worker wrote half is kept).
                    LogBackendLost(logger, batch.Count, ex);
                    foreach (var job in batch) await held.AbandonAsync(job);
                    continue;
                }
                if (done is null) continue;
                try
                {
                    await handOff.Writer.WriteAsync(done, abort);
                }
                catch (OperationCanceledException)
                {
                    foreach (var job in done.Jobs) await held.ReleaseAsync(job);
                    throw;
                }
            }
            drained = !abort.IsCancellationRequested;
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
        }
        finally
        {
            handOff.Writer.TryComplete();
            await finishing;
            await stopRenewing.CancelAsync();
            await renewing;
            await FailUnservedAsync("the service stopped (its shutdown timeout ended) before this job could finish");
        }
        if (drained) LogDrained(logger);
    }

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        BeginDraining();
        if (ExecuteTask is null) return;
        // Give up a little before the host's shutdown timeout (Diffusion:ShutdownTimeoutSeconds): the jobs still
        // running then fail as aborted, and their waiting clients need that last moment to be answered 503 +
        // Retry-After before the server stops and resets their connections. The host's token is the backstop.
        if (Interlocked.Exchange(ref _giveUpScheduled, 1) == 0) _abort.CancelAfter(GiveUpAfter(hostOptions.Value.ShutdownTimeout));
        await using var registration = cancellationToken.Register(_abort.Cancel);
        try
        {
            await ExecuteTask.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            await Task.WhenAny(ExecuteTask, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None));
        }
    }

    /// <summary>The drain's share of the shutdown timeout: all of it but a quarter, at most 5 s, kept to answer the clients.</summary>
    internal static TimeSpan GiveUpAfter(TimeSpan shutdownTimeout)
    {
        var answering = TimeSpan.FromTicks(Math.Min(shutdownTimeout.Ticks / 4, TimeSpan.FromSeconds(5).Ticks));
        return shutdownTimeout - answering;
    }

    private void BeginDraining()
    {
        if (registry.IsDraining) return;
        registry.SetDraining();
        queue.StopAccepting();
        LogDraining(logger, queue.Stats.Depth);
    }

    /// <summary>Fails the jobs that no worker will serve once this one stops (a shared queue keeps them for others).</summary>
    private async Task FailUnservedAsync(string reason)
    {
        foreach (var job in await queue.TakeUnservedAsync())
        {
            if (!await lifecycle.TryFinishAsync(job, fence: null, JobOutcome.Failed(reason, aborted: true))) continue;
            using (logger.BeginScope(JobTrace.LogScope(job))) LogUnserved(logger, job.Id, reason);
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Draining: no new jobs; {QueueDepth} queued jobs will finish")]
    private static partial void LogDraining(ILogger logger, int queueDepth);

    // One line per job, by id: an operator can tell whose request a shutdown cut short.
    [LoggerMessage(3, LogLevel.Warning, "Job {JobId} failed unfinished: {Reason}; its client is answered 503 with Retry-After")]
    private static partial void LogUnserved(ILogger logger, string jobId, string reason);

    [LoggerMessage(2, LogLevel.Information, "Queue drained; worker stopped")]
    private static partial void LogDrained(ILogger logger);

    [LoggerMessage(3, LogLevel.Warning, "The job backend became unreachable during a batch of {JobCount} jobs; they are left to their leases' expiry")]
    private static partial void LogBackendLost(ILogger logger, int jobCount, Exception exception);
}
