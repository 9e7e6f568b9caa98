using DiffusionApi.IntegrationTests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;

namespace DiffusionApi.IntegrationTests.Scaleout;

/// <summary>
/// Replicas sharing Redis but each keeping images in its own folder lose the images of the jobs the others ran: the
/// start warns about it, naming the folder and the settings that fix it. A single in-memory process is not warned.
/// </summary>
public sealed class FolderPerReplicaWarningTests
{
    private const string Warning = "every replica sharing this Redis must mount that same folder";

    [SkippableFact]
    public async Task TheRedisBackendWithAnImageFolder_IsWarnedAboutAtStart()
    {
        await using var server = await RedisServer.StartAsync();
        var sink = new CollectingSink();
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?>
        {
            ["Diffusion:Scaleout:Backend"] = "Redis",
            ["Diffusion:Scaleout:Redis"] = server.ConnectionString,
        }, services: s => s.AddSingleton<ILogEventSink>(sink));
        await factory.CreateReadyClientAsync();

        Assert.True(sink.Contains(Warning), "no warning about a folder per replica");
        Assert.True(sink.Contains("Diffusion:Storage:Provider=S3"), "the warning does not name the setting that fixes it");
    }

    [Fact]
    public async Task TheInMemoryBackendWithAnImageFolder_IsNotWarnedAbout()
    {
        var sink = new CollectingSink();
        await using var factory = new DiffusionApiFactory(services: s => s.AddSingleton<ILogEventSink>(sink));
        await factory.CreateReadyClientAsync();

        Assert.False(sink.Contains(Warning));
    }
}
