using System.Diagnostics;
using System.Net;
using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionApi.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionApi.IntegrationTests.Jobs;

public sealed class QueueTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task PostGenerations_WhenQueueIsFull_Returns503WithRetryAfterAtOnce()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?>
        {
            ["Diffusion:Queue:Capacity"] = "2",
            ["Diffusion:Queue:RetryAfterSeconds"] = "7",
            ["Diffusion:Batching:MaxBatchSize"] = "1",
            ["Diffusion:Batching:MaxDelayMs"] = "0",
        });
        var client = await factory.CreateReadyClientAsync();

        // One job in the engine (held), two waiting: the queue is full.
        var running = await factory.HoldOnARunningJobAsync(client, Timeout);
        var queued = new[] { client.PostGenerateAsync(Requests.Small(prompt: "queued 1")), client.PostGenerateAsync(Requests.Small(prompt: "queued 2")) };
        var queue = factory.Services.GetRequiredService<IJobQueue>();
        while (queue.Stats.Depth < 2) await Task.Delay(5);

        var stopwatch = Stopwatch.StartNew();
        var rejected = await client.PostGenerateAsync(Requests.Small(prompt: "one too many"));
        stopwatch.Stop();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), rejected.Headers.RetryAfter?.Delta);
        var problem = await rejected.ReadProblemAsync();
        Assert.Contains("queue is full", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"the 503 took {stopwatch.Elapsed}");
        Assert.DoesNotContain("one too many", factory.Probe.PromptsSeen);
        await Metrics.WaitForAsync(client, "diffusion_requests_rejected_total{otel_scope_name=\"DiffusionService\",reason=\"queue_full\"} 1");

        factory.Probe.Release();
        Assert.Equal(HttpStatusCode.OK, (await running).StatusCode);
        foreach (var response in await Task.WhenAll(queued)) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task JobCancelledWhileQueued_NeverReachesTheEngine()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?>
        {
            ["Diffusion:Batching:MaxBatchSize"] = "1",
            ["Diffusion:Batching:MaxDelayMs"] = "0",
        });
        var client = await factory.CreateReadyClientAsync();
        var running = await factory.HoldOnARunningJobAsync(client, Timeout);

        // The client gives up on a queued request: its HTTP request is aborted, which cancels its job.
        using var disconnect = new CancellationTokenSource();
        var abandoned = client.PostGenerateAsync(Requests.Small(prompt: "abandoned"), disconnect.Token);
        var queue = factory.Services.GetRequiredService<IJobQueue>();
        while (queue.Stats.Depth < 1) await Task.Delay(5);
        await disconnect.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        await WaitUntilAsync(() => queue.Stats.Depth == 0, "the abandoned job leaves the queue");
        var after = client.PostGenerateAsync(Requests.Small(prompt: "after"));
        await WaitUntilAsync(() => queue.Stats.Depth == 1 || after.IsCompleted, "the next job waits");

        factory.Probe.Release();

        Assert.Equal(HttpStatusCode.OK, (await running).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await after).StatusCode);
        Assert.Equal(["running", "after"], factory.Probe.PromptsSeen);
    }

    [Fact]
    [Trait("Suite", "Reliability")]
    public async Task CallersWhoHangUpWhileQueued_FreeTheirSlotsAtOnce_SoNewRequestsAreAdmitted()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?>
        {
            ["Diffusion:Queue:Capacity"] = "3",
            ["Diffusion:Batching:MaxBatchSize"] = "1",
            ["Diffusion:Batching:MaxDelayMs"] = "0",
        });
        var client = await factory.CreateReadyClientAsync();
        var running = await factory.HoldOnARunningJobAsync(client, Timeout);

        // Fill the queue with callers that then hang up while the engine is still busy with the first job.
        using var disconnect = new CancellationTokenSource();
        var abandoned = Enumerable.Range(1, 3).Select(i => client.PostGenerateAsync(Requests.Small(prompt: $"abandoned {i}"), disconnect.Token)).ToArray();
        var queue = factory.Services.GetRequiredService<IJobQueue>();
        await WaitUntilAsync(() => queue.Stats.Depth == 3, "three jobs wait");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.PostGenerateAsync(Requests.Small(prompt: "while full"))).StatusCode);
        await disconnect.CancelAsync();
        foreach (var call in abandoned) await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await WaitUntilAsync(() => queue.Stats.Depth == 0, "the abandoned jobs leave the queue");

        // The engine is still held: without freed slots each of these would be a 503.
        var admitted = Enumerable.Range(1, 3).Select(i => client.PostGenerateAsync(Requests.Small(prompt: $"admitted {i}"))).ToArray();
        await WaitUntilAsync(() => queue.Stats.Depth == 3 || admitted.Any(a => a.IsCompleted), "the new jobs wait");
        Assert.DoesNotContain(admitted, a => a.IsCompleted);
        factory.Probe.Release();

        Assert.Equal(HttpStatusCode.OK, (await running).StatusCode);
        foreach (var response in await Task.WhenAll(admitted)) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(factory.Probe.PromptsSeen, p => p.StartsWith("abandoned", StringComparison.Ordinal));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting until {what}");
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task ClientDisconnectDuringGeneration_CancelsTheEngineCall_AndTheWorkerGoesOn()
    {
        await using var factory = new DiffusionApiFactory();
        var client = await factory.CreateReadyClientAsync();
        factory.Probe.Hold();
        using var disconnect = new CancellationTokenSource();
        var abandoned = client.PostGenerateAsync(Requests.Small(prompt: "abandoned"), disconnect.Token);
        await factory.Probe.WaitForHeldCallAsync(Timeout);

        await disconnect.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        var deadline = DateTime.UtcNow + Timeout;
        while (factory.Probe.CancelledCalls == 0 && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.Equal(1, factory.Probe.CancelledCalls);

        factory.Probe.Release();
        Assert.Equal(HttpStatusCode.OK, (await client.PostGenerateAsync(Requests.Small(prompt: "next"))).StatusCode);
    }
}
