using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionApi.Jobs.Redis;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;

namespace DiffusionApi.IntegrationTests.Scaleout;

/// <summary>A Redis set up to lose jobs (no append-only file, an eviction policy) is named in a warning at start.</summary>
public sealed class RedisDurabilityTests
{
    [SkippableFact]
    public async Task ARedisWithoutAofOrWithEviction_IsWarnedAboutAtStart_AndOneWithBothIsNot()
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
    }
}
