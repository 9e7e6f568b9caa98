using System.Diagnostics;
using DiffusionApi.Engine;
using DiffusionApi.Options;
using DiffusionApi.Storage;
using DiffusionApi.Telemetry;
using DiffusionEngine.Imaging;
using DiffusionEngine.Models;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Schedulers;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Jobs;

/// <summary>
/// The one consumer of the <see cref="JobQueue"/>: loads the model (and runs one warm-up generation), then forever takes
/// a batch from the <see cref="BatchGatherer"/>, runs it on the engine off the host's threads, encodes (and stores)
/// each job's images and completes the job. A failing batch fails its own jobs; the worker goes on with the next.
/// On host stop it drains: the queue stops taking jobs, and queued and running jobs finish until the host's
/// shutdown timeout, after which the rest fail with <see cref="JobAbortedException"/>. The drain runs in the host's
/// "stopping" phase, before any hosted service stops, so Kestrel still listens meanwhile: new jobs get 503 with
/// Retry-After and /health/ready answers 503, instead of connections being refused.
/// Concurrency: the engine is called from one loop only, one batch at a time.
/// </summary>
public sealed partial class GenerationWorker(
    JobQueue queue,
    BatchGatherer gatherer,
    IGenerationEngineLoader loader,
    ModelHost host,
    IImageStore store,
    DiffusionMetrics metrics,
    IOptions<BatchingOptions> batching,
    IOptions<LimitsOptions> limits,
    IOptions<ModelOptions> modelOptions,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<GenerationWorker> logger) : BackgroundService, IHostedLifecycleService
{
    private readonly CancellationTokenSource _abort = new();
    private readonly int _maxBatchSize = batching.Value.MaxBatchSize;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // New jobs get 503 from the moment the host is asked to stop, before the server closes its listeners.
        lifetime.ApplicationStopping.Register(BeginDraining);
        gatherer.Dropped += job =>
        {
            CountFinished(job, JobState.Cancelled);
            using (logger.BeginScope(job.LogScope)) LogDroppedCancelled(logger, job.Id);
        };
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

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        BeginDraining();
        if (ExecuteTask is null) return;
        // The host's shutdown timeout (Diffusion:ShutdownTimeoutSeconds) cancels the token: then abort what is left.
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

    public override void Dispose()
    {
        _abort.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var abort = _abort.Token;
        IGenerationEngine engine;
        try
        {
            engine = await Task.Run(() => LoadAndWarmUp(abort), abort);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            FailWaiting("the service stopped before the model was loaded");
            return;
        }
        catch (Exception ex)
        {
            LogModelLoadFailed(logger, ex);
            host.SetLoadFailed(ex.Message);
            queue.CompleteAdding();
            FailWaiting($"the model failed to load: {ex.Message}");
            // Stop the host with a failing exit code: a service without its model must not look alive (or succeeded).
            // Not rethrown: the drain awaits this task on stop, and an exception out of the host's StopAsync would
            // escape app.Run() and abort the process (exit 134, unflushed logs) instead of exiting with 1. The stop
            // waits for the host to finish starting (Register runs at once if it has): stopping a host mid-start
            // also makes app.Run() throw.
            Environment.ExitCode = 1;
            lifetime.ApplicationStarted.Register(lifetime.StopApplication);
            return;
        }

        try
        {
            while (await gatherer.NextBatchAsync(abort) is { } batch)
            {
                await RunBatchAsync(engine, batch, abort);
            }
            LogDrained(logger);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
        }
        finally
        {
            FailWaiting("the service stopped before this job ran");
        }
    }

    private IGenerationEngine LoadAndWarmUp(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var engine = loader.Load(cancellationToken);
        host.SetLoaded(engine);
        if (modelOptions.Value.WarmUp)
        {
            var warmUp = new GenerationRequest
            {
                Prompt = "warm-up",
                Width = limits.Value.MinWidth,
                Height = limits.Value.MinHeight,
                Steps = Math.Max(2, limits.Value.MinSteps),
                Seed = 0,
            };
            engine.Generate([warmUp], null, cancellationToken);
        }
        host.SetWarmedUp();
        LogReady(logger, engine.Model.Name, time.GetElapsedTime(started).TotalMilliseconds);
        return engine;
    }

    private async Task RunBatchAsync(IGenerationEngine engine, IReadOnlyList<GenerationJob> batch, CancellationToken abort)
    {
        // 1. Start the jobs still wanted; record their queue wait as a span of each job's own trace.
        var jobs = new List<GenerationJob>(batch.Count);
        var requests = new List<GenerationRequest>();
        foreach (var job in batch)
        {
            if (job.CancellationToken.IsCancellationRequested || !job.TryStart())
            {
                Cancel(job);
                continue;
            }
            var wait = time.GetElapsedTime(job.CreatedTimestamp);
            metrics.QueueWait(wait);
            ServiceTelemetry.ActivitySource.StartActivity(ServiceTelemetry.QueueWaitSpan, ActivityKind.Internal, job.ParentContext, startTime: job.CreatedAt)?.Dispose();
            using (logger.BeginScope(job.LogScope)) LogJobStarted(logger, job.Id, batch.Count, wait.TotalMilliseconds);
            jobs.Add(job);
            requests.AddRange(job.Requests);
        }
        if (jobs.Count == 0) return;

        // 2. One span for the engine work, in the head job's trace and linked from the others'.
        var links = new List<ActivityLink>(jobs.Count - 1);
        for (var i = 1; i < jobs.Count; i++) links.Add(new ActivityLink(jobs[i].ParentContext));
        using var activity = ServiceTelemetry.ActivitySource.StartActivity(ServiceTelemetry.BatchSpan, ActivityKind.Internal, jobs[0].ParentContext, links: links);
        activity?.SetTag("diffusion.batch.jobs", jobs.Count);
        activity?.SetTag("diffusion.batch.images", requests.Count);

        // 3. The engine stops early only when every job of the batch was cancelled, or the service gives up.
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(abort);
        var stillWanted = jobs.Count;
        var registrations = new List<CancellationTokenRegistration>(jobs.Count);
        foreach (var job in jobs)
        {
            registrations.Add(job.CancellationToken.Register(() =>
            {
                if (Interlocked.Decrement(ref stillWanted) == 0) cancel.Cancel();
            }));
        }
        try
        {
            var progress = new BatchProgress(jobs, metrics);
            var images = new List<GeneratedImage>(requests.Count);
            for (var offset = 0; offset < requests.Count; offset += _maxBatchSize)
            {
                var chunk = requests.GetRange(offset, Math.Min(_maxBatchSize, requests.Count - offset));
                metrics.BatchRan(chunk.Count);
                // The engine blocks its thread for the whole batch: keep it off the host's threads.
                var generated = await Task.Run(() => engine.Generate(chunk, progress, cancel.Token), CancellationToken.None);
                images.AddRange(generated);
            }
            metrics.ImagesGenerated(images.Count);

            var index = 0;
            foreach (var job in jobs)
            {
                await CompleteAsync(job, images.GetRange(index, job.ImageCount), engine.Model);
                index += job.ImageCount;
            }
        }
        catch (Exception) when (cancel.IsCancellationRequested)
        {
            // Cancelled between steps (OperationCanceledException) or inside an ORT run (RunOptions.Terminate makes ORT throw its own error).
            foreach (var job in jobs)
            {
                var aborted = abort.IsCancellationRequested && Fail(job, new JobAbortedException("the service stopped before this job finished"));
                if (!aborted) Cancel(job);
            }
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            LogBatchFailed(logger, string.Join(",", jobs.Select(j => j.Id)), ex);
            foreach (var job in jobs) Fail(job, new JobFailedException($"image generation failed: {ex.Message}", ex));
        }
        finally
        {
            foreach (var registration in registrations) registration.Dispose();
        }
    }

    private async Task CompleteAsync(GenerationJob job, IReadOnlyList<GeneratedImage> images, ModelInfo model)
    {
        using var scope = logger.BeginScope(job.LogScope);
        if (job.CancellationToken.IsCancellationRequested)
        {
            Cancel(job);
            return;
        }
        try
        {
            var format = job.Spec.OutputFormat;
            var contentType = format.ContentType();
            var sampler = SchedulerFactory.DisplayNameOf(job.Spec.Scheduler ?? model.DefaultScheduler);
            var results = new JobImage[images.Count];
            for (var i = 0; i < images.Count; i++)
            {
                byte[] bytes;
                using (ServiceTelemetry.ActivitySource.StartActivity(ServiceTelemetry.ImageEncodeSpan, ActivityKind.Internal, job.ParentContext))
                {
                    bytes = ImageEncoder.Encode(images[i], format, InfoText.Format(images[i].Request, sampler, model.Name), job.Spec.OutputQuality);
                }
                string? imageId = null;
                if (job.StoreImages)
                {
                    using (ServiceTelemetry.ActivitySource.StartActivity(ServiceTelemetry.StorageSpan, ActivityKind.Internal, job.ParentContext))
                    {
                        imageId = await store.SaveAsync(bytes, contentType, CancellationToken.None);
                    }
                }
                results[i] = new JobImage(images[i].Seed, bytes, contentType, imageId);
            }
            var duration = time.GetElapsedTime(job.CreatedTimestamp);
            if (job.TrySucceed(new JobResult(results)))
            {
                metrics.JobFinished(JobState.Succeeded, duration);
                LogJobSucceeded(logger, job.Id, results.Length, duration.TotalMilliseconds);
            }
        }
        catch (Exception ex)
        {
            LogJobFailed(logger, job.Id, ex);
            Fail(job, new JobFailedException($"encoding or storing the image failed: {ex.Message}", ex));
        }
    }

    private void BeginDraining()
    {
        if (host.IsDraining) return;
        host.SetDraining();
        queue.CompleteAdding();
        LogDraining(logger, queue.Depth);
    }

    private void FailWaiting(string reason)
    {
        foreach (var job in gatherer.TakeAllWaiting()) Fail(job, new JobAbortedException(reason));
    }

    /// <summary>Cancels <paramref name="job"/> and counts it, unless it has already finished.</summary>
    private void Cancel(GenerationJob job)
    {
        if (job.TryCancel()) CountFinished(job, JobState.Cancelled);
    }

    /// <summary>Fails <paramref name="job"/> with <paramref name="error"/> and counts it, unless it has already finished.</summary>
    private bool Fail(GenerationJob job, Exception error)
    {
        if (!job.TryFail(error)) return false;
        CountFinished(job, JobState.Failed);
        return true;
    }

    private void CountFinished(GenerationJob job, JobState state) => metrics.JobFinished(state, time.GetElapsedTime(job.CreatedTimestamp));

    /// <summary>Reports engine steps to every job of the batch (called on the engine's thread).</summary>
    private sealed class BatchProgress(List<GenerationJob> jobs, DiffusionMetrics metrics) : IProgress<StepProgress>
    {
        public void Report(StepProgress value)
        {
            metrics.StepDone(value.StepDuration);
            foreach (var job in jobs) job.ReportProgress(value.Step, value.TotalSteps);
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Model {ModelName} ready after {ElapsedMs:F0} ms")]
    private static partial void LogReady(ILogger logger, string modelName, double elapsedMs);

    [LoggerMessage(2, LogLevel.Critical, "The model failed to load; the service cannot generate images")]
    private static partial void LogModelLoadFailed(ILogger logger, Exception exception);

    [LoggerMessage(3, LogLevel.Information, "Job {JobId} started in a batch of {BatchJobs} jobs after {QueueWaitMs:F1} ms in the queue")]
    private static partial void LogJobStarted(ILogger logger, string jobId, int batchJobs, double queueWaitMs);

    [LoggerMessage(4, LogLevel.Information, "Job {JobId} succeeded with {ImageCount} images in {DurationMs:F1} ms")]
    private static partial void LogJobSucceeded(ILogger logger, string jobId, int imageCount, double durationMs);

    [LoggerMessage(5, LogLevel.Error, "Job {JobId} failed while encoding or storing its images")]
    private static partial void LogJobFailed(ILogger logger, string jobId, Exception exception);

    [LoggerMessage(6, LogLevel.Error, "Batch of jobs {JobIds} failed in the engine")]
    private static partial void LogBatchFailed(ILogger logger, string jobIds, Exception exception);

    [LoggerMessage(7, LogLevel.Information, "Job {JobId} was cancelled by its caller while queued; it never reached the engine")]
    private static partial void LogDroppedCancelled(ILogger logger, string jobId);

    [LoggerMessage(8, LogLevel.Information, "Draining: no new jobs; {QueueDepth} queued jobs will finish")]
    private static partial void LogDraining(ILogger logger, int queueDepth);

    [LoggerMessage(9, LogLevel.Information, "Queue drained; worker stopped")]
    private static partial void LogDrained(ILogger logger);
}
