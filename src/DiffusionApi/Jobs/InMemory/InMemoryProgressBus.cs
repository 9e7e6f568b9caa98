using System.Threading.Channels;

namespace DiffusionApi.Jobs.InMemory;

/// <summary>
/// The single-process <see cref="IProgressBus"/>: each subscription is a small bounded channel that drops its oldest
/// event when its reader falls behind (a stalled SSE client must not hold memory or slow the worker).
/// Concurrency: any number of publishers and subscribers; publishing never waits.
/// </summary>
public sealed class InMemoryProgressBus : IProgressBus
{
    /// <summary>Events a subscriber may fall behind by; the worker publishes a few per step at most.</summary>
    public const int SubscriptionBuffer = 64;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<Subscription>> _subscribers = new(StringComparer.Ordinal);

    public ValueTask PublishAsync(JobEvent jobEvent, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            // Written under the lock, so that concurrent publishers' events reach every subscriber in one order.
            if (_subscribers.TryGetValue(jobEvent.JobId, out var subscribers))
            {
                foreach (var subscriber in subscribers) subscriber.Channel.Writer.TryWrite(jobEvent);
            }
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<IJobSubscription> SubscribeAsync(string jobId, CancellationToken cancellationToken = default)
    {
        var subscription = new Subscription(this, jobId);
        lock (_gate)
        {
            if (!_subscribers.TryGetValue(jobId, out var subscribers)) _subscribers[jobId] = subscribers = [];
            subscribers.Add(subscription);
        }
        return ValueTask.FromResult<IJobSubscription>(subscription);
    }

    private void Unsubscribe(Subscription subscription)
    {
        lock (_gate)
        {
            if (!_subscribers.TryGetValue(subscription.JobId, out var subscribers)) return;
            subscribers.Remove(subscription);
            if (subscribers.Count == 0) _subscribers.Remove(subscription.JobId);
        }
        subscription.Channel.Writer.TryComplete();
    }

    private sealed class Subscription(InMemoryProgressBus bus, string jobId) : IJobSubscription
    {
        public string JobId { get; } = jobId;

        public Channel<JobEvent> Channel { get; } = System.Threading.Channels.Channel.CreateBounded<JobEvent>(
            new BoundedChannelOptions(SubscriptionBuffer) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

        public ChannelReader<JobEvent> Events => Channel.Reader;

        public ValueTask DisposeAsync()
        {
            bus.Unsubscribe(this);
            return ValueTask.CompletedTask;
        }
    }
}
