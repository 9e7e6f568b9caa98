using DiffusionApi.IntegrationTests.Contracts;
using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionApi.Jobs.InMemory;
using DiffusionApi.Jobs.Redis;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace DiffusionApi.IntegrationTests.Jobs;

/// <summary>
/// Makes the Redis backend for the contract suites: the same classes the service registers, against a real
/// redis-server (<see cref="RedisServer.Shared"/>), each backend under its own key prefix so tests never see each other.
/// </summary>
internal sealed class RedisJobBackends : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];

    public JobBackend Create(JobBackendSettings settings)
    {
        var server = RedisServer.Shared.GetAwaiter().GetResult();
        var redis = server.ConnectAsync().GetAwaiter().GetResult();
        var redisSettings = new RedisJobSettings(
            "test-" + Guid.NewGuid().ToString("N")[..12], settings.Capacity, settings.LeaseDuration, MaxAttempts: 5,
            PollInterval: TimeSpan.FromMilliseconds(100), new JobRetention(settings.Retention, settings.SyncRetention));
        var queue = RedisJobQueue.CreateAsync(redis, redisSettings, NullLogger.Instance).GetAwaiter().GetResult();
        _owned.Add(queue);
        _owned.Add(new Closing(redis));
        return new JobBackend(queue, new RedisJobStore(redis, redisSettings), new RedisProgressBus(redis, redisSettings));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in _owned) await owned.DisposeAsync();
    }

    private sealed class Closing(ConnectionMultiplexer redis) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await redis.CloseAsync();
    }
}

public sealed class RedisJobQueueTests : JobQueueContract, IAsyncLifetime
{
    private readonly RedisJobBackends _backends = new();

    protected override JobBackend CreateBackend(JobBackendSettings settings) => _backends.Create(settings);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _backends.DisposeAsync().AsTask();
}

public sealed class RedisJobStoreTests : JobStoreContract, IAsyncLifetime
{
    private readonly RedisJobBackends _backends = new();

    protected override JobBackend CreateBackend(JobBackendSettings settings) => _backends.Create(settings);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _backends.DisposeAsync().AsTask();
}

public sealed class RedisProgressBusTests : ProgressBusContract, IAsyncLifetime
{
    private readonly RedisJobBackends _backends = new();

    protected override JobBackend CreateBackend(JobBackendSettings settings) => _backends.Create(settings);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _backends.DisposeAsync().AsTask();
}
