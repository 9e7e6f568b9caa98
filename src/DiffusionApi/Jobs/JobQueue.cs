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
        if (_channel.Writer.TryWrite(job)) return EnqueueResult.Accepted;
        Interlocked.Decrement(ref _depth);
        return _draining ? EnqueueResult.Draining : EnqueueResult.Full;
    }

    /// <summary>The gatherer took <paramref name="job"/> out of the waiting set (into a batch, or dropped it).</summary>
    internal void MarkTaken(GenerationJob job) => Interlocked.Decrement(ref _depth);

    /// <summary>Stops taking jobs (they get <see cref="EnqueueResult.Draining"/>); the worker finishes what is queued.</summary>
    public void CompleteAdding()
    {
        _draining = true;
        _channel.Writer.TryComplete();
    }
}
