using System.Diagnostics;
using DiffusionApi.Engine;
using DiffusionApi.Options;
using DiffusionApi.Telemetry;
using DiffusionEngine.Pipelines;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Jobs.Worker;

/// <summary>
/// Runs one leased batch on the engine: starts the jobs still wanted, leases their model from the
/// <see cref="ModelRegistry"/> (loading it when it is not; the lease keeps it loaded until the batch ends), runs their
/// images in engine calls of at most
/// <see cref="BatchingOptions.MaxBatchSize"/> off the host's threads, and returns the images for the
/// <see cref="JobFinisher"/>. The engine stops early only when every job of the batch is stopping (cancelled by its
/// clients) or the service gives up; then the jobs are cancelled, or given back to the queue. A failing engine call
/// fails the batch's own jobs here.
/// Concurrency: one batch at a time, from the worker's loop.
/// </summary>
public sealed partial class BatchRunner(
    ModelRegistry registry,
    HeldJobs held,
    JobLifecycle lifecycle,
    DiffusionMetrics metrics,
    IOptions<BatchingOptions> batching,
    IOptions<LimitsOptions> limits,
    TimeProvider time,
    ILogger<BatchRunner> logger)
{
    private readonly int _maxBatchSize = batching.Value.MaxBatchSize;
    private readonly int _maxJobSeconds = limits.Value.MaxJobSeconds;

    /// <returns>The generated batch, or null when no job of it is left to finish (none started, cancelled, failed, given back).</returns>
    public async Task<FinishedBatch?> RunAsync(IReadOnlyList<LeasedJob> batch, CancellationToken abort)
    {
        // 1. Start the jobs still wanted; record their queue wait as a span of each job's own trace.
        var jobs = new List<RunningJob>(batch.Count);
        foreach (var leased in batch)
        {
            if (await held.StartAsync(leased) is not { } job) continue;
            ServiceTelemetry.ActivitySource.StartActivity(ServiceTelemetry.QueueWaitSpan, ActivityKind.Internal, JobTrace.ParentOf(job.Job), startTime: job.Job.CreatedAt)?.Dispose();
            using (logger.BeginScope(JobTrace.LogScope(job.Job))) LogJobStarted(logger, job.Job.Id, batch.Count, (time.GetUtcNow() - job.Job.CreatedAt).TotalMilliseconds);
            jobs.Add(job);
        }
        if (jobs.Count == 0) return null;
        // Every job of a batch has the same model: the batch key ends with it.
        using var lease = await LeaseModelAsync(jobs, abort);
        if (lease is null) return null;
        var engine = lease.Engine;
        var requests = new List<GenerationRequest>();
        foreach (var job in jobs) requests.AddRange(job.Job.Spec.ToEngineRequests());

        // 2. One span for the engine work, in the head job's trace and linked from the others'.
        var links = new List<ActivityLink>(jobs.Count - 1);
        for (var i = 1; i < jobs.Count; i++) links.Add(new ActivityLink(JobTrace.ParentOf(jobs[i].Job)));
        using var activity = ServiceTelemetry.ActivitySource.StartActivity(ServiceTelemetry.BatchSpan, ActivityKind.Internal, JobTrace.ParentOf(jobs[0].Job), links: links);
        activity?.SetTag("diffusion.batch.jobs", jobs.Count);
        activity?.SetTag("diffusion.batch.images", requests.Count);

        // 3. The engine stops early only when every job of the batch is stopping, the service gives up, or the batch
        // runs past Diffusion:Limits:MaxJobSeconds (its jobs started together, so the batch's deadline is theirs).
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(_maxJobSeconds), time);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(abort, deadline.Token);
        var stillWanted = jobs.Count;
        var registrations = new List<CancellationTokenRegistration>(jobs.Count);
        foreach (var job in jobs)
        {
            registrations.Add(job.Stopping.Register(() =>
            {
                if (Interlocked.Decrement(ref stillWanted) == 0) cancel.Cancel();
            }));
        }
        var progress = new ProgressPump(jobs, lifecycle, metrics);
        try
        {
            var images = new List<GeneratedImage>(requests.Count);
            for (var offset = 0; offset < requests.Count; offset += _maxBatchSize)
            {
                var chunk = requests.GetRange(offset, Math.Min(_maxBatchSize, requests.Count - offset));
                metrics.BatchRan(chunk.Count);
                progress.ChunkOffset = offset;
                // The engine blocks its thread for the whole call: keep it off the host's threads.
                images.AddRange(await Task.Run(() => engine.Generate(chunk, progress, cancel.Token), CancellationToken.None));
            }
            metrics.ImagesGenerated(images.Count);
            return new FinishedBatch(jobs, images, engine.Model);
        }
        catch (Exception) when (cancel.IsCancellationRequested)
        {
            // Cancelled between steps (OperationCanceledException) or inside an ORT run (RunOptions.Terminate makes ORT throw its own error).
            var timedOut = deadline.IsCancellationRequested && !abort.IsCancellationRequested;
            if (timedOut) LogJobsTimedOut(logger, string.Join(",", jobs.Select(j => j.Job.Id)), _maxJobSeconds);
            foreach (var job in jobs)
            {
                if (abort.IsCancellationRequested) await held.ReleaseAsync(job);
                else if (timedOut && !job.Stopping.IsCancellationRequested) await held.FinishAsync(job, JobOutcome.TimedOut(TimedOutMessage));
                else await held.FinishAsync(job, JobOutcome.Cancelled);
            }
            return null;
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            LogBatchFailed(logger, string.Join(",", jobs.Select(j => j.Job.Id)), ex);
            foreach (var job in jobs) await held.FinishAsync(job, JobOutcome.Failed($"image generation failed: {ex.Message}"));
            return null;
        }
        finally
        {
            foreach (var registration in registrations) await registration.DisposeAsync();
            await progress.DisposeAsync();
        }
    }

    /// <summary>The batch's model, loaded; null when it cannot be had (its jobs failed) or the service gives up (its jobs given back).</summary>
    private async Task<ModelLease?> LeaseModelAsync(List<RunningJob> jobs, CancellationToken abort)
    {
        var name = jobs[0].Job.Model;
        string failure;
        if (registry.Find(name) is not { } model)
        {
            // Queued by a replica configured with other models (a shared queue).
            failure = $"the model '{name}' is not served by this worker (Diffusion:Models)";
        }
        else
        {
            try
            {
                return await registry.AcquireAsync(model, abort);
            }
            catch (OperationCanceledException) when (abort.IsCancellationRequested)
            {
                foreach (var job in jobs) await held.ReleaseAsync(job);
                return null;
            }
            catch (ModelLoadFailedException ex)
            {
                failure = ex.Message;
            }
        }
        foreach (var job in jobs) await held.FinishAsync(job, JobOutcome.Failed(failure));
        return null;
    }

    private string TimedOutMessage =>
        $"the job ran longer than Diffusion:Limits:MaxJobSeconds ({_maxJobSeconds} s) allows and was stopped; ask for fewer steps, images or pixels";

    [LoggerMessage(3, LogLevel.Warning, "Jobs {JobIds} ran past Diffusion:Limits:MaxJobSeconds ({MaxJobSeconds} s) and were stopped")]
    private static partial void LogJobsTimedOut(ILogger logger, string jobIds, int maxJobSeconds);

    [LoggerMessage(1, LogLevel.Information, "Job {JobId} started in a batch of {BatchJobs} jobs after {QueueWaitMs:F1} ms in the queue")]
    private static partial void LogJobStarted(ILogger logger, string jobId, int batchJobs, double queueWaitMs);

    [LoggerMessage(2, LogLevel.Error, "Batch of jobs {JobIds} failed in the engine")]
    private static partial void LogBatchFailed(ILogger logger, string jobIds, Exception exception);
}
