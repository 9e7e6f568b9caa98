using System.Threading.Channels;

namespace DiffusionApi.Jobs;

/// <summary>
/// Announces changes of a job to whoever watches it, on any replica: an SSE stream, a waiting request, the worker
/// running it (for cancel requests). Events only say that something changed; the <see cref="IJobStore"/> record is the
/// truth. Delivery is best effort (a shared bus loses events while a subscriber reconnects), so a watcher subscribes
/// first, then reads the record, then re-reads it on each event and at a polling interval; it never waits on an event
/// alone.
/// Concurrency: any number of publishers and subscribers, on any thread. Events of one job from one publisher arrive
/// in the order they were published.
/// </summary>
public interface IProgressBus
{
    /// <summary>Delivers <paramref name="jobEvent"/> to the current subscribers of its job; with none, it is dropped.</summary>
    ValueTask PublishAsync(JobEvent jobEvent, CancellationToken cancellationToken = default);

    /// <summary>
    /// Subscribes to one job's events: every event published after this returns is delivered, unless the subscriber
    /// falls behind by more than the subscription's buffer (the oldest are dropped; the record has the latest anyway).
    /// </summary>
    ValueTask<IJobSubscription> SubscribeAsync(string jobId, CancellationToken cancellationToken = default);
}

/// <summary>One subscriber's events for one job. Single reader; disposing it unsubscribes and completes <see cref="Events"/>.</summary>
public interface IJobSubscription : IAsyncDisposable
{
    ChannelReader<JobEvent> Events { get; }
}

/// <summary>
/// Something happened to a job. <see cref="Step"/>/<see cref="TotalSteps"/> are set for <see cref="JobEventKind.Progress"/>
/// and <see cref="JobEventKind.Preview"/>; <see cref="Preview"/> (the encoded preview, in the job's output format) for
/// <see cref="JobEventKind.Preview"/> only.
/// </summary>
public sealed record JobEvent(string JobId, JobEventKind Kind, int Step = 0, int TotalSteps = 0, byte[]? Preview = null);

public enum JobEventKind
{
    /// <summary>A worker started the job (Running).</summary>
    Started,

    /// <summary>A denoising step finished.</summary>
    Progress,

    /// <summary>
    /// A live preview of the job's first image after <see cref="JobEvent.Step"/> (the job asked for it:
    /// <c>GenerationSpec.Previews</c>). Only on the bus, never in the record: a watcher that misses it misses that preview.
    /// </summary>
    Preview,

    /// <summary>A worker gave the job back (Queued).</summary>
    Requeued,

    /// <summary>The job reached its final state.</summary>
    Finished,

    /// <summary>A client asked to cancel the running job: its worker stops it.</summary>
    CancelRequested,
}
