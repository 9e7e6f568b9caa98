using System.Diagnostics;
using System.Net;
using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionApi.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace DiffusionApi.IntegrationTests.Reliability;

/// <summary>
/// Triton's queue-full check: with room for 8 waiting jobs and nothing leaving the queue, 10 concurrent requests are
/// 8 accepted and exactly 2 refused with 503 + Retry-After; then how fast a refusal is (p50/p99 over many).
/// </summary>
[Trait("Suite", "Reliability")]
public sealed class QueueFullTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task TenConcurrentRequests_OnAQueueOf8_AreExactly2Refused_AndRefusalsAreFast()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?>
        {
            ["Diffusion:Queue:Capacity"] = "8",
            ["Diffusion:Batching:MaxBatchSize"] = "1",
            ["Diffusion:Batching:MaxDelayMs"] = "0",
        });
        var client = await factory.CreateReadyClientAsync();
        // The engine is held on a first job, so the 8 slots are all that is left and nothing leaves them meanwhile.
        var running = await factory.HoldOnARunningJobAsync(client, Timeout);

        using var start = new ManualResetEventSlim();
        var ten = Enumerable.Range(0, 10).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return await client.PostGenerateAsync(Requests.Small(prompt: $"concurrent {i}"));
        })).ToArray();
        var queue = factory.Services.GetRequiredService<IJobQueue>();
        start.Set();
        var deadline = DateTime.UtcNow + Timeout;
        while (ten.Count(t => t.IsCompleted) < 2 || queue.Stats.Depth < 8)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"depth {queue.Stats.Depth}, answered {ten.Count(t => t.IsCompleted)}");
            await Task.Delay(10);
        }
        var refused = ten.Where(t => t.IsCompleted).Select(t => t.Result).ToList();
        Assert.Equal(2, refused.Count);
        Assert.All(refused, r => Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode));
        Assert.All(refused, r => Assert.NotNull(r.Headers.RetryAfter));

        // While it stays full: how long a refusal takes, over 200 of them.
        var latencies = new List<double>(200);
        for (var i = 0; i < 200; i++)
        {
            var stopwatch = Stopwatch.StartNew();
            using var response = await client.PostGenerateAsync(Requests.Small(prompt: "refused"));
            latencies.Add(stopwatch.Elapsed.TotalMilliseconds);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }
        latencies.Sort();
        output.WriteLine($"queue-full: capacity 8, 10 concurrent → {10 - refused.Count} accepted, {refused.Count} refused (503); " +
            $"503 latency over 200: p50 {Percentile(latencies, 0.50):F2} ms, p99 {Percentile(latencies, 0.99):F2} ms");

        factory.Probe.Release();
        Assert.Equal(HttpStatusCode.OK, (await running).StatusCode);
        foreach (var accepted in ten.Where(t => !refused.Contains(t.Result)))
            Assert.Equal(HttpStatusCode.OK, (await accepted).StatusCode);
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
