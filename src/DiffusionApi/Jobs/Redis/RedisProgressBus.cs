using System.Threading.Channels;
using StackExchange.Redis;

namespace DiffusionApi.Jobs.Redis;

/// <summary>
/// The shared <see cref="IProgressBus"/>: Redis pub/sub, one channel per job (<c>P:events:ID</c>), events in
/// <see cref="JobJson"/> form (every field of <see cref="JobEvent"/> travels). Pub/sub keeps no history and loses what
/// is published while a subscriber reconnects; <see cref="JobWatcher"/> re-reads the record on a timer, so a lost event
/// only delays a reader. Each subscription buffers like the in-memory bus's (the oldest event is dropped).
/// Concurrency: any number of publishers and subscribers; events of one publisher arrive in order (one connection,
/// and the client hands each subscription its messages in order).
/// </summary>
public sealed class RedisProgressBus(IConnectionMultiplexer redis, RedisJobSettings settings) : IProgressBus
{
    public async ValueTask PublishAsync(JobEvent jobEvent, CancellationToken cancellationToken = default) =>
        await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(settings.EventsChannel(jobEvent.JobId)), JobJson.Serialize(jobEvent));

    public async ValueTask<IJobSubscription> SubscribeAsync(string jobId, CancellationToken cancellationToken = default)
    {
        var messages = await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(settings.EventsChannel(jobId)));
        return new Subscription(messages);
    }

    private sealed class Subscription : IJobSubscription
    {
        private readonly ChannelMessageQueue _messages;
        private readonly Channel<JobEvent> _events = Channel.CreateBounded<JobEvent>(
            new BoundedChannelOptions(InMemory.InMemoryProgressBus.SubscriptionBuffer) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        private int _disposed;

        public Subscription(ChannelMessageQueue messages)
        {
            _messages = messages;
            _messages.OnMessage(message => _events.Writer.TryWrite(JobJson.Deserialize<JobEvent>(message.Message.ToString())));
        }

        public ChannelReader<JobEvent> Events => _events.Reader;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            _events.Writer.TryComplete();
            try
            {
                await _messages.UnsubscribeAsync();
            }
            catch (RedisException)
            {
                // Redis is unreachable: the subscription died with the connection.
            }
        }
    }
}
