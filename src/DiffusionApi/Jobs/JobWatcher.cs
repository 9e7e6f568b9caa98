using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace DiffusionApi.Jobs;

/// <summary>
/// Follows one job for a reader (an SSE stream, a waiting request) the way <see cref="IProgressBus"/> requires: subscribe
/// first, then read the record, then read it again on each event or after the polling interval, so a lost event costs
/// at most one interval and never hangs the reader.
/// Concurrency: stateless; each watch is independent.
/// </summary>
public sealed class JobWatcher(IJobStore store, IProgressBus bus)
{
    /// <summary>
    /// The job's record now and after each change (several changes between two reads give one read). Ends after the
    /// first final, Gone or NotFound answer, or when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public IAsyncEnumerable<JobLookup> WatchAsync(string jobId, TimeSpan pollInterval, CancellationToken cancellationToken) =>
        WatchAsync(jobId, pollInterval, static _ => true, cancellationToken);

    /// <summary>As <see cref="WatchAsync(string, TimeSpan, CancellationToken)"/>, showing <paramref name="seen"/> every event first (a preview is only on the bus).</summary>
    public IAsyncEnumerable<JobLookup> WatchAsync(string jobId, TimeSpan pollInterval, Action<JobEvent> seen, CancellationToken cancellationToken) =>
        WatchAsync(jobId, pollInterval, e =>
        {
            seen(e);
            return true;
        }, cancellationToken);

    /// <summary>The job's final record; Gone or NotFound (it expired before this read it) is an error.</summary>
    public async Task<JobSnapshot> WaitForFinishAsync(string jobId, TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        // Only the Finished event matters here: progress events would each cost a wake-up and a read for nothing.
        await foreach (var lookup in WatchAsync(jobId, pollInterval, static e => e.Kind == JobEventKind.Finished, cancellationToken))
        {
            if (lookup.Job is { State: var state } job && state.IsFinal()) return job;
            if (lookup.Job is null) throw new InvalidOperationException($"job {jobId} is {lookup.Presence}: its record expired before it was read");
        }
        cancellationToken.ThrowIfCancellationRequested();
        throw new InvalidOperationException($"watching job {jobId} ended before it finished");
    }

    private async IAsyncEnumerable<JobLookup> WatchAsync(
        string jobId, TimeSpan pollInterval, Func<JobEvent, bool> relevant, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var subscription = await bus.SubscribeAsync(jobId, cancellationToken);
        while (true)
        {
            var lookup = await store.GetAsync(jobId, cancellationToken);
            yield return lookup;
            if (lookup.Job is not { } job || job.State.IsFinal()) yield break;
            await NextChangeAsync(subscription.Events, pollInterval, relevant, cancellationToken);
        }
    }

    /// <summary>Returns once a relevant event arrived (taking every event already there) or the interval ran out.</summary>
    private static async Task NextChangeAsync(ChannelReader<JobEvent> events, TimeSpan pollInterval, Func<JobEvent, bool> relevant, CancellationToken cancellationToken)
    {
        if (TakeAll(events, relevant)) return;
        using var poll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        poll.CancelAfter(pollInterval);
        try
        {
            while (await events.WaitToReadAsync(poll.Token))
            {
                if (TakeAll(events, relevant)) return;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The interval ran out: read again anyway.
        }
    }

    /// <summary>Takes every event already there (one read of the record covers them all); true when one was relevant.</summary>
    private static bool TakeAll(ChannelReader<JobEvent> events, Func<JobEvent, bool> relevant)
    {
        var any = false;
        while (events.TryRead(out var jobEvent)) any |= relevant(jobEvent);
        return any;
    }
}
