using StackExchange.Redis;

namespace DiffusionApi.Storage;

/// <summary>
/// Who runs the retention sweep: with several replicas sharing a store, one sweep per interval is enough, and
/// concurrent sweeps of one bucket would only race to delete the same objects.
/// </summary>
public interface ISweepLock
{
    /// <summary>True when this replica may sweep now; it then holds the turn for <paramref name="hold"/> (not released early).</summary>
    Task<bool> TryAcquireAsync(TimeSpan hold, CancellationToken cancellationToken = default);
}

/// <summary>One process: it always sweeps.</summary>
public sealed class LocalSweepLock : ISweepLock
{
    public Task<bool> TryAcquireAsync(TimeSpan hold, CancellationToken cancellationToken = default) => Task.FromResult(true);
}

/// <summary>
/// A Redis key taken with SET NX PX: the first replica to take it sweeps, the others skip this interval. The key
/// expires by itself, so a replica that dies holding it blocks nobody for longer than one interval.
/// </summary>
public sealed class RedisSweepLock(IConnectionMultiplexer redis, string key) : ISweepLock
{
    private readonly string _token = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    public async Task<bool> TryAcquireAsync(TimeSpan hold, CancellationToken cancellationToken = default) =>
        await redis.GetDatabase().StringSetAsync(key, _token, hold, When.NotExists);
}
