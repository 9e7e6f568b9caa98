using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;

namespace DiffusionApi.Bench;

/// <summary>Closed-loop HTTP load against 127.0.0.1: each client sends its next request when the previous one is answered.</summary>
public static class HttpLoad
{
    public static HttpClient CreateClient(Uri baseAddress) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 256,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
    })
    {
        BaseAddress = baseAddress,
        Timeout = TimeSpan.FromMinutes(5),
    };

    public static object Body(BenchSettings settings, int i) => new
    {
        prompt = $"bench {i}",
        size = $"{settings.Size}x{settings.Size}",
        steps = settings.Steps,
        seed = i,
    };

    /// <summary>Sequential GET requests: the cost of HTTP alone (no queue, no engine), for reference.</summary>
    public static async Task<RunResult> GetAsync(string name, HttpClient client, string path, int requests)
    {
        for (var i = 0; i < 20; i++) (await client.GetAsync(path)).Dispose();
        var latencies = new double[requests];
        var total = Stopwatch.StartNew();
        for (var i = 0; i < requests; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await client.GetAsync(path);
            await response.Content.ReadAsByteArrayAsync();
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{name}: {response.StatusCode}");
        }
        total.Stop();
        return new RunResult(name, requests, total.Elapsed, latencies);
    }

    /// <summary>Sends <paramref name="requests"/> POST /v1/generate requests from <paramref name="clients"/> concurrent clients.</summary>
    public static async Task<RunResult> GenerateAsync(string name, HttpClient client, BenchSettings settings, int clients, int requests, HttpStatusCode expected = HttpStatusCode.OK)
    {
        // Warm the connections (and the server's JIT) before timing.
        await Task.WhenAll(Enumerable.Range(0, clients).Select(i => client.PostAsJsonAsync("/v1/generate", Body(settings, i))));

        var next = -1;
        var latencies = new double[requests];
        var unexpected = 0;
        var total = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await client.PostAsJsonAsync("/v1/generate", Body(settings, i));
                await response.Content.ReadAsByteArrayAsync();
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (response.StatusCode != expected) Interlocked.Increment(ref unexpected);
            }
        }));
        total.Stop();
        if (unexpected > 0) throw new InvalidOperationException($"{name}: {unexpected} of {requests} answers were not {(int)expected}");
        return new RunResult(name, requests, total.Elapsed, latencies);
    }
}
