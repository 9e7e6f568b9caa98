using DiffusionApi.Telemetry;

namespace DiffusionApi.Jobs;

/// <summary>
/// Every change of a job's state, made the same way wherever it is made (the worker, an endpoint): first the store's
/// checked write (<see cref="IJobStore"/>: state machine and fence), then, only when the store took it, the event on
/// the <see cref="IProgressBus"/> and the metrics. A write the store refuses changes nothing and announces nothing, so a
/// job is counted once however many replicas race to finish it.
/// Concurrency: stateless; safe from any thread.
/// </summary>
public sealed partial class JobLifecycle(
    IJobStore store,
    IProgressBus bus,
    DiffusionMetrics metrics,
    TimeProvider time,
    ILogger<JobLifecycle> logger)
{
    /// <summary>Queued → Running for <paramref name="fence"/>; records the job's queue wait when it starts.</summary>
    public async ValueTask<StartResult> TryStartAsync(JobDescriptor job, JobFence fence)
    {
        var result = await store.TryStartAsync(job.Id, fence);
        if (result != StartResult.Started) return result;
        metrics.QueueWait(time.GetUtcNow() - job.CreatedAt);
        await bus.PublishAsync(new JobEvent(job.Id, JobEventKind.Started));
        return result;
    }

    /// <summary>Records a denoising step of a running job and announces it.</summary>
    public async ValueTask ReportProgressAsync(JobDescriptor job, JobFence fence, int step, int totalSteps)
    {
        if (await store.TryReportProgressAsync(job.Id, fence, step, totalSteps))
            await bus.PublishAsync(new JobEvent(job.Id, JobEventKind.Progress, step, totalSteps));
    }

    /// <summary>Announces a live preview of a running job (best effort: previews are not kept in the record).</summary>
    public ValueTask PublishPreviewAsync(JobDescriptor job, int step, int totalSteps, byte[] preview) =>
        bus.PublishAsync(new JobEvent(job.Id, JobEventKind.Preview, step, totalSteps, preview));

    /// <summary>Running → Queued: the worker gives the job back unfinished.</summary>
    public async ValueTask<bool> TryRequeueAsync(JobDescriptor job, JobFence fence)
    {
        if (!await store.TryRequeueAsync(job.Id, fence)) return false;
        await bus.PublishAsync(new JobEvent(job.Id, JobEventKind.Requeued));
        return true;
    }

    /// <summary>Sets the final state (see <see cref="IJobStore.TryFinishAsync"/>), announces it and counts the job.</summary>
    /// <returns>False when the store refused: the job belongs to a newer attempt or has finished already.</returns>
    public async ValueTask<bool> TryFinishAsync(JobDescriptor job, JobFence? fence, JobOutcome outcome)
    {
        if (!await store.TryFinishAsync(job.Id, fence, outcome)) return false;
        await bus.PublishAsync(new JobEvent(job.Id, JobEventKind.Finished));
        metrics.JobFinished(outcome.State, time.GetUtcNow() - job.CreatedAt);
        return true;
    }

    /// <summary>
    /// A client's cancel: a queued job is cancelled at once (it never reaches the engine); a running one is flagged and
    /// its worker, told through the bus, stops it.
    /// </summary>
    public async ValueTask<CancelOutcome> RequestCancelAsync(string jobId)
    {
        var outcome = await store.RequestCancelAsync(jobId);
        switch (outcome.Result)
        {
            case CancelResult.Cancelled:
                var job = outcome.Job!.Job;
                await bus.PublishAsync(new JobEvent(jobId, JobEventKind.Finished));
                metrics.JobFinished(JobState.Cancelled, time.GetUtcNow() - job.CreatedAt);
                using (logger.BeginScope(JobTrace.LogScope(job))) LogCancelledWhileQueued(logger, jobId);
                break;
            case CancelResult.Requested:
                await bus.PublishAsync(new JobEvent(jobId, JobEventKind.CancelRequested));
                break;
        }
        return outcome;
    }

    /// <summary>
    /// <see cref="RequestCancelAsync"/> from a place that cannot wait (a cancellation callback); a failure is logged.
    /// </summary>
    public void RequestCancelInBackground(string jobId) => _ = RequestCancelLoggedAsync(jobId);

    private async Task RequestCancelLoggedAsync(string jobId)
    {
        try
        {
            await RequestCancelAsync(jobId);
        }
        catch (Exception ex)
        {
            LogCancelFailed(logger, jobId, ex);
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Job {JobId} was cancelled by its caller while queued; it never reached the engine")]
    private static partial void LogCancelledWhileQueued(ILogger logger, string jobId);

    [LoggerMessage(2, LogLevel.Warning, "Cancelling job {JobId} failed")]
    private static partial void LogCancelFailed(ILogger logger, string jobId, Exception exception);
}
