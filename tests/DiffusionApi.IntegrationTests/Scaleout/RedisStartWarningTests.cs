using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionApi.Jobs.Redis;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;

namespace DiffusionApi.IntegrationTests.Scaleout;

/// <summary>
/// Set-ups that lose jobs or images are named in a warning at start: a Redis without the append-only file or with an
/// eviction policy, and replicas sharing Redis while each keeps images in its own folder (a job run by one replica would
/// have no images on the others). A single in-memory process gets neither warning.
/// </summary>
public sealed class RedisStartWarningTests
{
    private const string FolderPerReplica = "every replica sharing this Redis must mount that same folder";

    [SkippableFact]
    public async Task ARedisWithoutAofOrWithEviction_AndAnImageFolder_AreWarnedAboutAtStart_AndARedisWithBothIsNot()
    {
        await using var server = await RedisServer.StartAsync();
        await using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",allowAdmin=true");
        Assert.Empty((await RedisDurabilityCheck.FindProblemsAsync(admin))!);

        await admin.GetDatabase().ExecuteAsync("CONFIG", "SET", "appendonly", "no");
        await admin.GetDatabase().ExecuteAsync("CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
        var sink = new CollectingSink();
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?>
        {
            ["Diffusion:Scaleout:Backend"] = "Redis",
            ["Diffusion:Scaleout:Redis"] = server.ConnectionString,
        }, services: s => s.AddSingleton<ILogEventSink>(sink));
        await factory.CreateReadyClientAsync();

        Assert.True(sink.Contains("appendonly is 'no', expected 'yes'"),
            "no warning about the append-only file:\n" + string.Join('\n', sink.Events.Select(e => e.RenderMessage()).Where(m => m.Contains("Redis", StringComparison.Ordinal))));
        Assert.True(sink.Contains("maxmemory-policy is 'allkeys-lru', expected 'noeviction'"), "no warning about eviction");
        Assert.True(sink.Contains(FolderPerReplica), "no warning about a folder per replica");
        Assert.True(sink.Contains("Diffusion:Storage:Provider=S3"), "the folder warning does not name the setting that fixes it");
    }

    [Fact]
    public async Task TheInMemoryBackendWithAnImageFolder_IsNotWarnedAbout()
    {
        var sink = new CollectingSink();
        await using var factory = new DiffusionApiFactory(services: s => s.AddSingleton<ILogEventSink>(sink));
        await factory.CreateReadyClientAsync();

        Assert.False(sink.Contains(FolderPerReplica));
    }
}
