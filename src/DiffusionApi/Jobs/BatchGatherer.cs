using DiffusionApi.Options;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Jobs;

/// <summary>
/// Forms engine batches from the queue. Takes the head job, then adds compatible jobs (equal <see cref="BatchKey"/>)
/// in queue order until <see cref="BatchingOptions.MaxBatchSize"/> images, waiting for more until
/// <see cref="BatchingOptions.MaxDelayMs"/> after the head job arrived (a head that already waited that long does not
/// wait again). Jobs read past because they did not fit are kept aside and come first next time, in their order.
/// Cancelled jobs are dropped here, before they reach the engine.
/// Concurrency: single caller (the worker).
/// </summary>
public sealed class BatchGatherer(JobQueue queue, IOptions<BatchingOptions> options, TimeProvider time)
{
    private readonly LinkedList<GenerationJob> _setAside = new();
    private readonly int _maxImages = options.Value.MaxBatchSize;
    private readonly TimeSpan _maxDelay = TimeSpan.FromMilliseconds(options.Value.MaxDelayMs);

    /// <summary>Raised for each job dropped because its caller cancelled it while it was queued.</summary>
    public event Action<GenerationJob>? Dropped;

    /// <summary>The next batch (never empty), or null once the queue is completed and everything was taken.</summary>
    public async ValueTask<IReadOnlyList<GenerationJob>?> NextBatchAsync(CancellationToken cancellationToken)
    {
        var head = await TakeHeadAsync(cancellationToken);
        if (head is null) return null;

        var batch = new List<GenerationJob> { head };
        var images = head.ImageCount;

        // 1. Jobs set aside earlier, in order.
        for (var node = _setAside.First; node is not null && images < _maxImages;)
        {
            var next = node.Next;
            var job = node.Value;
            if (DropIfCancelled(job))
            {
                _setAside.Remove(node);
            }
            else if (Fits(head, job, images))
            {
                _setAside.Remove(node);
                queue.MarkTaken(job);
                batch.Add(job);
                images += job.ImageCount;
            }
            node = next;
        }

        // 2. Jobs from the channel, waiting for more until the head's deadline.
        var headArrival = head.CreatedTimestamp;
        var reader = queue.Reader;
        while (images < _maxImages)
        {
            if (reader.TryRead(out var job))
            {
                if (DropIfCancelled(job)) continue;
                if (Fits(head, job, images))
                {
                    queue.MarkTaken(job);
                    batch.Add(job);
                    images += job.ImageCount;
                }
                else
                {
                    _setAside.AddLast(job);
                }
                continue;
            }

            var remaining = _maxDelay - time.GetElapsedTime(headArrival);
            if (remaining <= TimeSpan.Zero) break;
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(remaining);
            try
            {
                if (!await reader.WaitToReadAsync(wait.Token)) break; // completed: nothing more will come
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                break; // the delay ran out
            }
        }
        return batch;
    }

    /// <summary>Jobs still waiting (set aside and in the channel), for failing them when the service gives up.</summary>
    public IEnumerable<GenerationJob> TakeAllWaiting()
    {
        while (_setAside.First is { } node)
        {
            var job = node.Value;
            _setAside.RemoveFirst();
            queue.MarkTaken(job);
            yield return job;
        }
        while (queue.Reader.TryRead(out var job))
        {
            queue.MarkTaken(job);
            yield return job;
        }
    }

    private async ValueTask<GenerationJob?> TakeHeadAsync(CancellationToken cancellationToken)
    {
        while (_setAside.First?.Value is { } first)
        {
            _setAside.RemoveFirst();
            if (DropIfCancelled(first)) continue;
            queue.MarkTaken(first);
            return first;
        }
        var reader = queue.Reader;
        while (await reader.WaitToReadAsync(cancellationToken))
        {
            while (reader.TryRead(out var job))
            {
                if (DropIfCancelled(job)) continue;
                queue.MarkTaken(job);
                return job;
            }
        }
        return null;
    }

    private bool Fits(GenerationJob head, GenerationJob job, int images) =>
        job.Key == head.Key && images + job.ImageCount <= _maxImages;

    private bool DropIfCancelled(GenerationJob job)
    {
        if (!job.CancellationToken.IsCancellationRequested) return false;
        queue.MarkTaken(job);
        job.TryCancel();
        Dropped?.Invoke(job);
        return true;
    }
}
