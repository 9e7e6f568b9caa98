using System.Collections.Concurrent;
using System.Threading.Channels;
using DiffusionApi.Options;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Jobs;

/// <summary>Why <see cref="JobQueue.TryEnqueue"/> did or did not take a job.</summary>
public enum EnqueueResult
{
    Accepted,
    Full,
    Draining,
}

/// <summary>
/// The bounded queue between the endpoints and the worker: a <see cref="Channel{T}"/> of <see cref="QueueOptions.Capacity"/>
/// jobs. Producers never wait: <see cref="TryEnqueue"/> answers at once. <see cref="Depth"/> counts jobs admitted and
/// not yet taken into a batch, including those the gatherer has read past while looking for compatible jobs, so the
/// bound holds for everything waiting. Concurrency: many writers (requests), a single reader (the worker's gatherer).
/// </summary>
public sealed class JobQueue
{
    private readonly Channel<GenerationJob> _channel;
    private readonly ConcurrentDictionary<GenerationJob, long> _waiting = new();
    private long _sequence;
    private int _depth;
    private volatile bool _draining;

    public JobQueue(IOptions<QueueOptions> options)
    {
        Capacity = options.Value.Capacity;
        _channel = Channel.CreateBounded<GenerationJob>(new BoundedChannelOptions(Capacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait, // with TryWrite: a full channel answers false, nothing waits
        });
    }

    public int Capacity { get; }

    /// <summary>Jobs waiting for the worker.</summary>
    public int Depth => Volatile.Read(ref _depth);

    public bool IsDraining => _draining;

    internal ChannelReader<GenerationJob> Reader => _channel.Reader;

    public EnqueueResult TryEnqueue(GenerationJob job)
    {
        if (_draining) return EnqueueResult.Draining;
        if (Interlocked.Increment(ref _depth) > Capacity)
        {
            Interlocked.Decrement(ref _depth);
            return EnqueueResult.Full;
        }
        _waiting[job] = Interlocked.Increment(ref _sequence);
        if (_channel.Writer.TryWrite(job)) return EnqueueResult.Accepted;
        _waiting.TryRemove(job, out _);
        Interlocked.Decrement(ref _depth);
        return _draining ? EnqueueResult.Draining : EnqueueResult.Full;
    }

    /// <summary>The gatherer took <paramref name="job"/> out of the waiting set (into a batch, or dropped it).</summary>
    internal void MarkTaken(GenerationJob job)
    {
        _waiting.TryRemove(job, out _);
        Interlocked.Decrement(ref _depth);
    }

    /// <summary>1 for the next job the worker takes (batching aside), null when <paramref name="job"/> is not waiting. O(depth).</summary>
    public int? PositionOf(GenerationJob job)
    {
        if (!_waiting.TryGetValue(job, out var mine)) return null;
        var position = 1;
        foreach (var (_, sequence) in _waiting)
        {
            if (sequence < mine) position++;
        }
        return position;
    }

    /// <summary>Stops taking jobs (they get <see cref="EnqueueResult.Draining"/>); the worker finishes what is queued.</summary>
    public void CompleteAdding()
    {
        _draining = true;
        _channel.Writer.TryComplete();
    }
}
