using System.Diagnostics.Metrics;
using DiffusionApi.Jobs;

namespace DiffusionApi.Telemetry;

/// <summary>
/// The service's instruments on Meter "DiffusionService". Prometheus names: diffusion_queue_depth,
/// diffusion_queue_wait_seconds, diffusion_job_duration_seconds, diffusion_batch_size, diffusion_step_duration_seconds,
/// diffusion_images_generated_total, diffusion_requests_rejected_total, diffusion_jobs_total.
/// Histograms carry bucket boundaries sized for what they measure (OpenTelemetry's default 0, 5, 10, 25 … 10000 would
/// put every step and most jobs into one bucket). Rejections are an observable counter per reason, so every reason is
/// exported (at 0) from the first scrape, before any request was turned away.
/// </summary>
public sealed class DiffusionMetrics
{
    public const string BatchSizeName = "diffusion.batch.size";

    private readonly Histogram<double> _queueWait;
    private readonly Histogram<double> _jobDuration;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _stepDuration;
    private readonly Counter<long> _imagesGenerated;
    private long _rejectedQueueFull;
    private long _rejectedDraining;
    private long _rejectedRateLimited;
    private readonly Counter<long> _jobs;

    public DiffusionMetrics(IMeterFactory meterFactory, IJobQueue queue)
    {
        var meter = meterFactory.Create(ServiceTelemetry.ServiceName);
        meter.CreateObservableGauge("diffusion.queue.depth", () => queue.Stats.Depth, description: "Jobs waiting for the worker");
        _queueWait = meter.CreateHistogram("diffusion.queue.wait", "s", "Time from a job's arrival to the start of its batch",
            advice: Buckets(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300));
        _jobDuration = meter.CreateHistogram("diffusion.job.duration", "s", "Time from a job's arrival to its completion",
            advice: Buckets(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600));
        _batchSize = meter.CreateHistogram(BatchSizeName, description: "Images in one engine call",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64] });
        _stepDuration = meter.CreateHistogram("diffusion.step.duration", "s", "Duration of one denoising step of a batch",
            advice: Buckets(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10));
        _imagesGenerated = meter.CreateCounter<long>("diffusion.images.generated", description: "Images generated");
        meter.CreateObservableCounter("diffusion.requests.rejected", ObserveRejections,
            description: "Generation requests turned away at once: 503 (queue full, draining) or 429 (rate limited), by reason");
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

    public void Rejected(EnqueueResult reason)
    {
        if (reason == EnqueueResult.Draining) Interlocked.Increment(ref _rejectedDraining);
        else Interlocked.Increment(ref _rejectedQueueFull);
    }

    public void RateLimited() => Interlocked.Increment(ref _rejectedRateLimited);

    private IEnumerable<Measurement<long>> ObserveRejections() =>
    [
        new(Interlocked.Read(ref _rejectedQueueFull), new KeyValuePair<string, object?>("reason", "queue_full")),
        new(Interlocked.Read(ref _rejectedDraining), new KeyValuePair<string, object?>("reason", "draining")),
        new(Interlocked.Read(ref _rejectedRateLimited), new KeyValuePair<string, object?>("reason", "rate_limited")),
    ];

    private static InstrumentAdvice<double> Buckets(params double[] boundaries) => new() { HistogramBucketBoundaries = boundaries };

    private static string OutcomeName(JobState state) => state switch
    {
        JobState.Succeeded => "succeeded",
        JobState.Failed => "failed",
        JobState.Cancelled => "cancelled",
        _ => "unknown",
    };
}
