using DiffusionApi.Extensions;
using System.Diagnostics;
using System.Threading.Channels;
using DiffusionApi.Storage;
using DiffusionApi.Telemetry;
using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Schedulers;

namespace DiffusionApi.Jobs.Worker;

/// <summary>
/// Finishes the jobs of the batches the engine is done with: encodes each image (with its A1111 infotext), puts it in
/// the <see cref="IImageStore"/> and completes the job with the image ids. It runs beside the engine loop, fed through
/// a bounded hand-off, so encoding and storing batch n overlap the UNet work of batch n+1. Images of a job whose result
/// the store refuses (its lease was lost) or that fails half-way are deleted again: nothing half-written stays. A
/// failure answers the client with the stage and the job id, never the exception's text (it names server paths).
/// Concurrency: one loop (<see cref="RunAsync"/>) per worker.
/// </summary>
public sealed partial class JobFinisher(HeldJobs held, IImageStore store, TimeProvider time, ILogger<JobFinisher> logger)
{
    /// <summary>Finishes every batch handed off, until the hand-off completes and is empty.</summary>
    /// <param name="batches">The hand-off from the engine loop.</param>
    /// <param name="abort">The service gives up: jobs not finished by then are given back instead (and failed by the worker when nobody else serves them).</param>
    public async Task RunAsync(ChannelReader<FinishedBatch> batches, CancellationToken abort)
    {
        await foreach (var batch in batches.ReadAllAsync(CancellationToken.None))
        {
            var offset = 0;
            foreach (var job in batch.Jobs)
            {
                var count = job.Job.Spec.Count;
                await FinishOrAbandonAsync(job, batch.Images.Skip(offset).Take(count).ToArray(), batch.Model, abort);
                offset += count;
            }
        }
    }

    private async Task FinishOrAbandonAsync(RunningJob job, GeneratedImage[] images, ModelInfo model, CancellationToken abort)
    {
        try
        {
            await FinishAsync(job, images, model, abort);
        }
        catch (Exception ex) when (BackendUnavailableHandler.IsBackendUnavailable(ex))
        {
            // Whether the finishing write reached Redis is unknown, so its images stay (if the job is run again, the
            // retention sweep removes them) and the lease runs out (the reaper then closes or retries the job).
            LogBackendUnavailable(logger, job.Job.Id, ex);
            await held.AbandonAsync(job.Lease);
        }
    }

    private async Task FinishAsync(RunningJob job, GeneratedImage[] images, ModelInfo model, CancellationToken abort)
    {
        using var scope = logger.BeginScope(JobTrace.LogScope(job.Job));
        if (job.Stopping.IsCancellationRequested)
        {
            await held.FinishAsync(job, JobOutcome.Cancelled);
            return;
        }
        var stored = new List<JobImageRef>(images.Length);
        var stage = "encoding";
        try
        {
            abort.ThrowIfCancellationRequested();
            var spec = job.Job.Spec;
            var contentType = spec.OutputFormat.ContentType();
            var sampler = SchedulerFactory.DisplayNameOf(spec.Scheduler ?? model.DefaultScheduler);
            var parent = JobTrace.ParentOf(job.Job);
            foreach (var generated in images)
            {
                // A1111's "only masked" inpainting: the crop that was generated goes back into the init image.
                var image = spec.Overlay?.Apply(generated) ?? generated;
                byte[] bytes;
                stage = "encoding";
                using (ServiceTelemetry.ActivitySource.StartActivity(ServiceTelemetry.ImageEncodeSpan, ActivityKind.Internal, parent))
                {
                    bytes = ImageEncoder.Encode(image, spec.OutputFormat, InfoText.Format(image.Request, sampler, model.Name), spec.OutputQuality);
                }
                stage = "storing";
                using (ServiceTelemetry.ActivitySource.StartActivity(ServiceTelemetry.StorageSpan, ActivityKind.Internal, parent))
                {
                    stored.Add(new JobImageRef(image.Seed, await store.PutAsync(job.Job.Id, bytes, contentType, job.Job.Owner, abort), contentType));
                }
            }
            if (await held.FinishAsync(job, JobOutcome.Succeeded(stored)))
            {
                LogJobSucceeded(logger, job.Job.Id, stored.Count, (time.GetUtcNow() - job.Job.CreatedAt).TotalMilliseconds);
                return;
            }
            // Deleted before the log line: what the line reports has happened by the time anyone reads it.
            await DeleteAsync(stored);
            LogResultDiscarded(logger, job.Job.Id);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            await DeleteAsync(stored);
            await held.ReleaseAsync(job);
        }
        catch (Exception ex) when (!BackendUnavailableHandler.IsBackendUnavailable(ex))
        {
            LogJobFailed(logger, job.Job.Id, ex);
            await DeleteAsync(stored);
            // The client gets the stage, not the exception's message: an I/O error names server paths. The log has it all.
            var failure = $"{stage} image {stored.Count + 1} of {images.Length} failed; the service log has the cause under job {job.Job.Id}";
            await held.FinishAsync(job, JobOutcome.Failed(failure));
        }
    }

    private async Task DeleteAsync(List<JobImageRef> stored)
    {
        foreach (var image in stored)
        {
            try
            {
                await store.DeleteAsync(image.ImageId, CancellationToken.None);
            }
            catch (Exception ex)
            {
                // The retention sweep removes it later.
                LogDeleteFailed(logger, image.ImageId, ex);
            }
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Job {JobId} succeeded with {ImageCount} images in {DurationMs:F1} ms")]
    private static partial void LogJobSucceeded(ILogger logger, string jobId, int imageCount, double durationMs);

    [LoggerMessage(2, LogLevel.Error, "Job {JobId} failed while encoding or storing its images")]
    private static partial void LogJobFailed(ILogger logger, string jobId, Exception exception);

    [LoggerMessage(3, LogLevel.Warning, "Job {JobId}'s images were discarded: the job was taken over by another worker or finished meanwhile")]
    private static partial void LogResultDiscarded(ILogger logger, string jobId);

    [LoggerMessage(5, LogLevel.Warning, "Job {JobId} could not be finished: the job backend is unreachable")]
    private static partial void LogBackendUnavailable(ILogger logger, string jobId, Exception exception);

    [LoggerMessage(4, LogLevel.Warning, "Could not delete image {ImageId} of a discarded result; the retention sweep will")]
    private static partial void LogDeleteFailed(ILogger logger, string imageId, Exception exception);
}
