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
    public async IAsyncEnumerable<JobLookup> WatchAsync(string jobId, TimeSpan pollInterval, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var subscription = await bus.SubscribeAsync(jobId, cancellationToken);
        while (true)
        {
            var lookup = await store.GetAsync(jobId, cancellationToken);
            yield return lookup;
            if (lookup.Job is not { } job || job.State.IsFinal()) yield break;
            await NextChangeAsync(subscription.Events, pollInterval, cancellationToken);
        }
    }

    /// <summary>The job's final record; Gone or NotFound (it expired before this read it) is an error.</summary>
    public async Task<JobSnapshot> WaitForFinishAsync(string jobId, TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        await foreach (var lookup in WatchAsync(jobId, pollInterval, cancellationToken))
        {
            if (lookup.Job is { State: var state } job && state.IsFinal()) return job;
            if (lookup.Job is null) throw new InvalidOperationException($"job {jobId} is {lookup.Presence}: its record expired before it was read");
        }
        cancellationToken.ThrowIfCancellationRequested();
        throw new InvalidOperationException($"watching job {jobId} ended before it finished");
    }

    private static async Task NextChangeAsync(ChannelReader<JobEvent> events, TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        if (!events.TryRead(out _))
        {
            using var poll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            poll.CancelAfter(pollInterval);
            try
            {
                await events.WaitToReadAsync(poll.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return; // the interval ran out: read again anyway
            }
        }
        while (events.TryRead(out _))
        {
            // One read of the record covers every event already here.
        }
    }
}
