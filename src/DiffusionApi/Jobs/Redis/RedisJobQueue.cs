using System.Globalization;
using StackExchange.Redis;

namespace DiffusionApi.Jobs.Redis;

/// <summary>
/// The shared <see cref="IJobQueue"/>: one Redis stream per model with the consumer group <c>workers</c>, and a sorted
/// set of the waiting jobs by admission sequence (queue order, positions, the global bound). Every change is one script
/// (<see cref="RedisJobScripts"/>): admission (idempotency key, bound, XADD, record, wake-up), leasing (the reaper first,
/// then the batch; the chosen entries are XCLAIMed to the worker), heartbeats (XCLAIM to itself, which resets the idle
/// time), completion (XACK) and release (back to the parking consumer and the waiting set at the old place).
/// A lease not renewed for the lease duration is reclaimed by the next lease on any replica (XAUTOCLAIM), up to
/// <see cref="RedisJobSettings.MaxAttempts"/> leases; then the job fails and goes to the dead-letter stream.
/// Workers wake on the <c>P:wake</c> channel and look again every <see cref="RedisJobSettings.PollInterval"/> anyway
/// (the client has no blocking XREADGROUP, and a wake-up may be lost). While Redis is unreachable a waiting lease keeps
/// trying; every other call throws the client's exception (the endpoints answer 503).
/// Concurrency: any number of producers and workers on any number of replicas.
/// </summary>
public sealed partial class RedisJobQueue : IJobQueue, IAsyncDisposable
{
    private readonly IConnectionMultiplexer _redis;
    private readonly RedisJobSettings _settings;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private TaskCompletionSource _wake = NewSignal();
    private ChannelMessageQueue? _wakeups;
    private volatile bool _stopped;
    private int _depth;
    private int _leased;

    private RedisJobQueue(IConnectionMultiplexer redis, RedisJobSettings settings, ILogger logger)
    {
        _redis = redis;
        _settings = settings;
        _logger = logger;
    }

    /// <summary>A queue subscribed to the wake-up channel (subscribing again by itself after a reconnect).</summary>
    public static async Task<RedisJobQueue> CreateAsync(IConnectionMultiplexer redis, RedisJobSettings settings, ILogger logger)
    {
        var queue = new RedisJobQueue(redis, settings, logger);
        try
        {
            queue._wakeups = await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(settings.WakeChannel));
            queue._wakeups.OnMessage(_ => queue.Wake());
        }
        catch (RedisException ex)
        {
            // Redis is down at start: leases poll until it returns (the multiplexer resubscribes on reconnect only what it holds).
            LogWakeupsUnavailable(logger, ex);
        }
        await RedisDurabilityCheck.LogAsync(redis, logger);
        return queue;
    }

    public QueueStats Stats => new(Volatile.Read(ref _depth), _settings.Capacity, Volatile.Read(ref _leased));

    private IDatabase Db => _redis.GetDatabase();

    public async ValueTask<EnqueueOutcome> EnqueueAsync(JobDescriptor job, CancellationToken cancellationToken = default)
    {
        if (_stopped) return new(EnqueueResult.Draining, null);
        var reply = (RedisResult[])(await EvalAsync(RedisJobScripts.Submit,
            job.Id, JobJson.Serialize(job), _settings.StreamKey(job.Model), job.BatchKey, Text(job.Spec.Count), job.Kind.ToString(),
            Text(job.TotalSteps), job.IdempotencyKey ?? "", Text(_settings.Capacity)))!;
        switch (reply[0].ToString())
        {
            case "dup":
                return new(EnqueueResult.Duplicate, reply[1].ToString());
            case "full":
                Volatile.Write(ref _depth, (int)reply[1]);
                return new(EnqueueResult.Full, null);
            default:
                UpdateStats(reply[1], reply[2]);
                return new(EnqueueResult.Accepted, job.Id);
        }
    }

    public async ValueTask<IReadOnlyList<LeasedJob>?> LeaseBatchAsync(string workerId, BatchLimits limits, CancellationToken cancellationToken)
    {
        var poll = _settings.PollInterval < _settings.LeaseDuration / 2 ? _settings.PollInterval : _settings.LeaseDuration / 2;
        while (true)
        {
            // A shared queue needs no draining: what waits stays for the other replicas.
            if (_stopped) return null;
            Task wake;
            lock (_gate) wake = _wake.Task;
            var wait = poll;
            try
            {
                var reply = (RedisResult[])(await EvalAsync(RedisJobScripts.Lease, [
                    workerId, Text(limits.MaxImages), Millis(limits.MaxDelay), Millis(_settings.LeaseDuration), Text(_settings.MaxAttempts),
                    Millis(_settings.Retention.Async), Millis(_settings.Retention.Sync),
                    .. limits.Models?.Select(m => (RedisValue)_settings.StreamKey(m)) ?? []]))!;
                switch (reply[0].ToString())
                {
                    case "ok":
                        UpdateStats(reply[1], reply[2]);
                        var batch = new List<LeasedJob>((reply.Length - 3) / 3);
                        for (var i = 3; i + 2 < reply.Length; i += 3)
                            batch.Add(new LeasedJob(JobJson.Deserialize<JobDescriptor>(reply[i + 2].ToString()), (int)reply[i + 1]));
                        return batch;
                    case "wait":
                        UpdateStats(reply[2], reply[3]);
                        var remaining = TimeSpan.FromMilliseconds((long)reply[1]);
                        if (remaining < wait) wait = remaining;
                        break;
                    default:
                        UpdateStats(reply[1], reply[2]);
                        break;
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // Redis is unreachable: this worker waits for it to come back, like one with an empty queue.
                LogLeaseFailed(_logger, ex);
            }
            try
            {
                await wake.WaitAsync(wait, cancellationToken);
            }
            catch (TimeoutException)
            {
                // Look again: the batching delay ran out, a lease may have expired, or a wake-up was lost.
            }
        }
    }

    public async ValueTask<IReadOnlyList<string>> RenewAsync(string workerId, IReadOnlyCollection<LeasedJob> jobs, CancellationToken cancellationToken = default)
    {
        if (jobs.Count == 0) return [];
        var args = new List<RedisValue>(jobs.Count * 2 + 1) { workerId };
        foreach (var job in jobs)
        {
            args.Add(job.Job.Id);
            args.Add(Text(job.Attempt));
        }
        var lost = (RedisResult[])(await EvalAsync(RedisJobScripts.Renew, [.. args]))!;
        return Array.ConvertAll(lost, l => l.ToString());
    }

    public async ValueTask CompleteAsync(string workerId, LeasedJob job, CancellationToken cancellationToken = default)
    {
        var reply = (RedisResult[])(await EvalAsync(RedisJobScripts.Complete, workerId, job.Job.Id, Text(job.Attempt)))!;
        UpdateStats(reply[0], reply[1]);
    }

    public async ValueTask ReleaseAsync(string workerId, LeasedJob job, CancellationToken cancellationToken = default)
    {
        var reply = (RedisResult[])(await EvalAsync(RedisJobScripts.Release, workerId, job.Job.Id, Text(job.Attempt)))!;
        UpdateStats(reply[0], reply[1]);
    }

    /// <summary>
    /// From the admission and departure counters, O(1), when every job that left out of order (or came back) is older than
    /// this one; else the waiting set's rank, O(log N). Exact either way.
    /// </summary>
    public async ValueTask<int?> PositionOfAsync(string jobId, CancellationToken cancellationToken = default) =>
        (int)await EvalAsync(RedisJobScripts.Position, jobId) is var position and > 0 ? position : null;

    public void StopAccepting()
    {
        _stopped = true;
        Wake();
    }

    /// <summary>Nothing is unserved: waiting jobs stay in Redis for the other replicas' workers.</summary>
    public ValueTask<IReadOnlyList<JobDescriptor>> TakeUnservedAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IReadOnlyList<JobDescriptor>>([]);

    public async ValueTask DisposeAsync()
    {
        if (_wakeups is { } wakeups)
        {
            try
            {
                await wakeups.UnsubscribeAsync();
            }
            catch (RedisException)
            {
                // Redis is gone: there is nothing left to unsubscribe from.
            }
        }
        Wake();
    }

    private void Wake()
    {
        lock (_gate)
        {
            _wake.TrySetResult();
            _wake = NewSignal();
        }
    }

    private void UpdateStats(RedisResult depth, RedisResult leased)
    {
        Volatile.Write(ref _depth, (int)depth);
        Volatile.Write(ref _leased, (int)leased);
    }

    private Task<RedisResult> EvalAsync(string script, params RedisValue[] args) =>
        Db.ScriptEvaluateAsync(script, keys: null, values: [_settings.Prefix, .. args]);

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Millis(TimeSpan span) => Math.Max(0, (long)span.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(1, LogLevel.Warning, "Could not subscribe to the queue's wake-up channel; workers poll instead")]
    private static partial void LogWakeupsUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(2, LogLevel.Warning, "Leasing jobs from Redis failed; retrying")]
    private static partial void LogLeaseFailed(ILogger logger, Exception exception);
}
