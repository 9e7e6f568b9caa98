using System.Diagnostics.Metrics;
using DiffusionApi.Jobs;

namespace DiffusionApi.Telemetry;

/// <summary>
/// The service's instruments on Meter "DiffusionService". Prometheus names: diffusion_queue_depth,
/// diffusion_queue_wait_seconds, diffusion_job_duration_seconds, diffusion_batch_size, diffusion_step_duration_seconds,
/// diffusion_images_generated_total, diffusion_requests_rejected_total, diffusion_jobs_total.
/// </summary>
public sealed class DiffusionMetrics
{
    public const string BatchSizeName = "diffusion.batch.size";

    private readonly Histogram<double> _queueWait;
    private readonly Histogram<double> _jobDuration;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _stepDuration;
    private readonly Counter<long> _imagesGenerated;
    private readonly Counter<long> _rejections;
    private readonly Counter<long> _jobs;

    public DiffusionMetrics(IMeterFactory meterFactory, JobQueue queue)
    {
        var meter = meterFactory.Create(ServiceTelemetry.ServiceName);
        meter.CreateObservableGauge("diffusion.queue.depth", () => queue.Depth, description: "Jobs waiting for the worker");
        _queueWait = meter.CreateHistogram<double>("diffusion.queue.wait", "s", "Time from a job's arrival to the start of its batch");
        _jobDuration = meter.CreateHistogram<double>("diffusion.job.duration", "s", "Time from a job's arrival to its completion");
        _batchSize = meter.CreateHistogram<int>(BatchSizeName, description: "Images in one engine call");
        _stepDuration = meter.CreateHistogram<double>("diffusion.step.duration", "s", "Duration of one denoising step of a batch");
        _imagesGenerated = meter.CreateCounter<long>("diffusion.images.generated", description: "Images generated");
        _rejections = meter.CreateCounter<long>("diffusion.requests.rejected", description: "Requests answered 503 because the queue was full or the service was draining");
        _jobs = meter.CreateCounter<long>("diffusion.jobs", description: "Finished jobs by outcome");
    }

    public void QueueWait(TimeSpan wait) => _queueWait.Record(wait.TotalSeconds);

    public void JobFinished(JobState outcome, TimeSpan duration)
    {
        _jobDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("outcome", OutcomeName(outcome)));
        _jobs.Add(1, new KeyValuePair<string, object?>("outcome", OutcomeName(outcome)));
    }

    public void BatchRan(int images) => _batchSize.Record(images);

    public void StepDone(TimeSpan duration) => _stepDuration.Record(duration.TotalSeconds);

    public void ImagesGenerated(int count) => _imagesGenerated.Add(count);

    public void Rejected(EnqueueResult reason) =>
        _rejections.Add(1, new KeyValuePair<string, object?>("reason", reason == EnqueueResult.Draining ? "draining" : "queue_full"));

    private static string OutcomeName(JobState state) => state switch
    {
        JobState.Succeeded => "succeeded",
        JobState.Failed => "failed",
        JobState.Cancelled => "cancelled",
        _ => "unknown",
    };
}
