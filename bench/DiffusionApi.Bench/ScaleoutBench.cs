using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using DiffusionApi.Testing;

namespace DiffusionApi.Bench;

/// <summary>
/// Issue 10 point 9: (1) throughput of two worker processes against one on the tiny model, each with one ONNX Runtime
/// thread, sharing one redis-server, with the whole batch of async jobs queued up front; (2) the latency the Redis path
/// adds per job against the in-memory backend, as the p50 of sequential small /v1/generate requests on one process.
/// Everything on 127.0.0.1, every run bounded; the two sides of each comparison alternate, over several rounds.
/// <c>--smoke</c> runs a few jobs per side, to check the harness.
/// </summary>
public static class ScaleoutBench
{
    public static async Task<int> RunAsync(string model, string[] args)
    {
        var smoke = args.Contains("--smoke");
        var outPath = args.SkipWhile(a => a != "--out").Skip(1).FirstOrDefault();
        var jobs = smoke ? 6 : 60;
        var latencyRequests = smoke ? 20 : 300;
        var rounds = smoke ? 1 : 3;
        var report = new StringBuilder();
        void Line(string text = "")
        {
            Console.WriteLine(text);
            report.AppendLine(text);
        }

        var redisDirectory = Directory.CreateTempSubdirectory("diffusion-bench-redis-").FullName;
        var port = FreePort();
        using var redis = Process.Start(new ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", redisDirectory, "--save", "",
                "--appendonly", "yes", "--maxmemory-policy", "noeviction" },
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        try
        {
            await Task.Delay(500);
            var loadBefore = File.ReadAllText("/proc/loadavg").Split(' ')[..3];
            Line($"tiny model; {Environment.ProcessorCount} cores; load average before {string.Join(' ', loadBefore)}; {rounds} rounds, the sides alternating");
            Line();

            // 1. Throughput: N async jobs queued at once, 128x128 and 8 steps each, MaxBatchSize 1 (one job per engine call,
            // so two processes split the work job by job); time from the first submission to the last job finished.
            var one = new List<double>();
            var two = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                one.Add(await ThroughputAsync(model, port, workers: 1, jobs));
                two.Add(await ThroughputAsync(model, port, workers: 2, jobs));
            }
            var oneMedian = Median(one);
            var twoMedian = Median(two);
            Line($"| worker processes (1 ORT thread each) | jobs | jobs/s per round | median jobs/s |");
            Line("|---|---|---|---|");
            Line($"| 1 | {jobs} | {string.Join(", ", one.Select(F))} | {F(oneMedian)} |");
            Line($"| 2 | {jobs} | {string.Join(", ", two.Select(F))} | {F(twoMedian)} |");
            Line();
            Line($"two processes / one: {twoMedian / oneMedian:F2}x");
            Line();

            // 2. Added latency: sequential sync /v1/generate (64x64, 2 steps) on one process, in-memory against Redis.
            var inMemory = new List<double>();
            var onRedis = new List<double>();
            using var redisClient = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port}");
            for (var round = 0; round < rounds; round++)
            {
                inMemory.Add(await LatencyP50Async(model, redisPort: null, latencyRequests));
                onRedis.Add(await LatencyP50Async(model, port, latencyRequests));
            }
            // What one round trip to Redis costs here (a job makes about a dozen, most off the request's path).
            var pings = new double[1000];
            var db = redisClient.GetDatabase();
            for (var i = 0; i < pings.Length; i++) pings[i] = (await db.PingAsync()).TotalMilliseconds;
            Line("| backend | requests per round | p50 ms per round | median p50 ms |");
            Line("|---|---|---|---|");
            Line($"| InMemory | {latencyRequests} | {string.Join(", ", inMemory.Select(F))} | {F(Median(inMemory))} |");
            Line($"| Redis | {latencyRequests} | {string.Join(", ", onRedis.Select(F))} | {F(Median(onRedis))} |");
            Line();
            Line($"added by Redis at p50: {Median(onRedis) - Median(inMemory):F2} ms per job (median of rounds); lowest round p50s {inMemory.Min():F2} vs {onRedis.Min():F2} ms");
            Line($"PING round trip to Redis, p50 of {pings.Length}: {Median(pings):F3} ms");
            Line($"load average after {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3])}");
            if (outPath is not null) await File.WriteAllTextAsync(outPath, report.ToString());
            return 0;
        }
        finally
        {
            redis.Kill(entireProcessTree: true);
            await redis.WaitForExitAsync();
            Directory.Delete(redisDirectory, recursive: true);
        }
    }

    private static Dictionary<string, string> Settings(int? redisPort, string prefix) => new()
    {
        ["Serilog:MinimumLevel:Default"] = "Warning",
        ["Diffusion:Model:IntraOpThreads"] = "1",
        ["Diffusion:Batching:MaxBatchSize"] = "1",
        ["Diffusion:Batching:MaxDelayMs"] = "0",
        ["Diffusion:Queue:Capacity"] = "1000",
        ["Diffusion:Scaleout:Backend"] = redisPort is null ? "InMemory" : "Redis",
        ["Diffusion:Scaleout:Redis"] = redisPort is null ? "" : $"127.0.0.1:{redisPort}",
        ["Diffusion:Scaleout:KeyPrefix"] = prefix,
        ["Diffusion:Scaleout:PollIntervalMs"] = "100",
    };

    private static async Task<double> ThroughputAsync(string model, int redisPort, int workers, int jobs)
    {
        var prefix = "bench-" + Guid.NewGuid().ToString("N")[..8];
        var processes = new List<ServiceProcess>();
        try
        {
            for (var i = 0; i < workers; i++) processes.Add(await ServiceProcess.StartAsync(model, Settings(redisPort, prefix)));
            using var client = processes[0].CreateClient();
            var started = Stopwatch.GetTimestamp();
            var locations = new List<string>(jobs);
            for (var i = 0; i < jobs; i++)
            {
                using var response = await client.PostAsJsonAsync("/v1/jobs", new { prompt = $"bench {i}", size = "128x128", steps = 8, seed = i });
                if (response.StatusCode != HttpStatusCode.Accepted) throw new InvalidOperationException($"submission {i}: {response.StatusCode}");
                locations.Add(response.Headers.Location!.ToString());
            }
            foreach (var location in locations)
            {
                while (true)
                {
                    var status = (await client.GetFromJsonAsync<JsonElement>(location)).GetProperty("status").GetString();
                    if (status == "succeeded") break;
                    if (status is "failed" or "cancelled") throw new InvalidOperationException($"{location} {status}");
                    await Task.Delay(20);
                }
            }
            return jobs / Stopwatch.GetElapsedTime(started).TotalSeconds;
        }
        finally
        {
            foreach (var process in processes) await process.DisposeAsync();
        }
    }

    private static async Task<double> LatencyP50Async(string model, int? redisPort, int requests)
    {
        await using var service = await ServiceProcess.StartAsync(model, Settings(redisPort, "bench-" + Guid.NewGuid().ToString("N")[..8]));
        using var client = service.CreateClient();
        var body = new { prompt = "latency", size = "64x64", steps = 2, seed = 1, response_format = "b64_json" };
        for (var i = 0; i < 10; i++) (await client.PostAsJsonAsync("/v1/images/generations", body)).EnsureSuccessStatusCode();
        var latencies = new double[requests];
        for (var i = 0; i < requests; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await client.PostAsJsonAsync("/v1/images/generations", body);
            response.EnsureSuccessStatusCode();
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        return Median(latencies);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string F(double value) => value.ToString("F2", CultureInfo.InvariantCulture);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
