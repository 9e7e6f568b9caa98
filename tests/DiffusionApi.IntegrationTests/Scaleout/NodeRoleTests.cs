using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Scaleout;

/// <summary>
/// Diffusion:Node:Role: an API-only node validates and queues but runs nothing (a worker node on the same Redis runs its
/// jobs); it is ready without a worker; an API-only node without a shared backend, or an unknown role, stops the start
/// with a message naming the setting.
/// </summary>
public sealed class NodeRoleTests
{
    [Fact]
    public void AnApiNode_WithTheInMemoryBackend_FailsAtStartNamingTheSetting()
    {
        var error = DiffusionApiFactory.StartFailure(new Dictionary<string, string?> { ["Diffusion:Node:Role"] = "Api" });
        Assert.Contains("Diffusion:Node:Role=Api needs Diffusion:Scaleout:Backend=Redis", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownRole_FailsAtStartNamingTheSettingAndTheValue()
    {
        var error = DiffusionApiFactory.StartFailure(new Dictionary<string, string?> { ["Diffusion:Node:Role"] = "Gpu" });
        Assert.Contains("Diffusion:Node:Role must be All or Api or Worker but was 'Gpu'", error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task AnApiNode_QueuesJobsThatAWorkerNodeRuns_AndGeneratesNothingItself()
    {
        var server = await RedisServer.Shared;
        var prefix = "roles-" + Guid.NewGuid().ToString("N")[..10];
        // Images on one folder both nodes see (a shared volume; S3 in production).
        var shared = Directory.CreateTempSubdirectory("diffusion-roles-");
        Dictionary<string, string?> Settings(string role) => new()
        {
            ["Diffusion:Node:Role"] = role,
            ["Diffusion:Scaleout:Backend"] = "Redis",
            ["Diffusion:Scaleout:Redis"] = server.ConnectionString,
            ["Diffusion:Scaleout:KeyPrefix"] = prefix,
            ["Diffusion:Scaleout:PollIntervalMs"] = "100",
            ["Diffusion:DataDirectory"] = shared.FullName,
        };
        await using var api = new DiffusionApiFactory(Settings("Api"));
        var client = await api.CreateReadyClientAsync();

        // Ready with no worker anywhere; requests are validated against the model as the workers will run it.
        var models = await client.GetFromJsonAsync<JsonElement>("/v1/models");
        Assert.Equal(Path.GetFileName(SharedTinyModel.Directory), models.GetProperty("data")[0].GetProperty("id").GetString());
        var invalid = await client.PostAsJsonAsync("/v1/jobs", Requests.Small(steps: 100_000));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var accepted = await client.PostAsJsonAsync("/v1/jobs", Requests.Small(seed: 11));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var location = accepted.Headers.Location!.ToString();
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal("queued", (await client.GetFromJsonAsync<JsonElement>(location)).GetProperty("status").GetString());

        await using var worker = new DiffusionApiFactory(Settings("Worker"));
        await worker.CreateReadyClientAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        JsonElement job;
        while ((job = await client.GetFromJsonAsync<JsonElement>(location)).GetProperty("status").GetString() != "succeeded")
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the worker node never ran the job: {job}");
            await Task.Delay(50);
        }

        Assert.Empty(api.Probe.Batches);
        Assert.Contains("a red fox", worker.Probe.PromptsSeen);
        var url = job.GetProperty("data")[0].GetProperty("url").GetString()!;
        Assert.True(Images.IsPng(await client.GetByteArrayAsync(new Uri(url).PathAndQuery)));
        await worker.DisposeAsync();
        await api.DisposeAsync();
        shared.Delete(recursive: true);
    }
}
