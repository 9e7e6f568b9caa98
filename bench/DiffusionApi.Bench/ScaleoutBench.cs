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
        var jobs = Option(args, "--jobs") ?? (smoke ? 6 : 120);
        var size = Option(args, "--size") ?? 128;
        var steps = Option(args, "--steps") ?? 8;
        var warmUpJobs = Option(args, "--warm-up") ?? (smoke ? 10 : 1500);
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
            Line($"throughput: {jobs} jobs of {size}x{size}, {steps} steps, after {warmUpJobs} warm-up jobs (64x64, {steps} steps) per process");
            Line();

            // 1. Throughput: N async jobs queued at once (default 128x128 and 8 steps each), MaxBatchSize 1 (one job per engine call,
            // so two processes split the work job by job); time from the first submission to the last job finished.
            var one = new List<double>();
            var two = new List<double>();
            await using (var single = await Side.StartAsync(model, port, workers: 1))
            await using (var pair = await Side.StartAsync(model, port, workers: 2))
            {
                // Both sides stay up for every round (an idle side only polls), warmed up once, before the first round.
                await single.WarmUpAsync(warmUpJobs, steps);
                await pair.WarmUpAsync(warmUpJobs, steps);
                for (var round = 0; round < rounds; round++)
                {
                    one.Add(await single.MeasureAsync(jobs, size, steps, Line));
                    two.Add(await pair.MeasureAsync(jobs, size, steps, Line));
                }
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
        ["Diffusion:Queue:Capacity"] = "10000",
        ["Diffusion:Scaleout:Backend"] = redisPort is null ? "InMemory" : "Redis",
        ["Diffusion:Scaleout:Redis"] = redisPort is null ? "" : $"127.0.0.1:{redisPort}",
        ["Diffusion:Scaleout:KeyPrefix"] = prefix,
        ["Diffusion:Scaleout:PollIntervalMs"] = "100",
    };

    private static int? Option(string[] args, string name)
    {
        var value = args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        return value is null ? null : int.Parse(value, CultureInfo.InvariantCulture);
    }


    /// <summary>
    /// One side of the throughput comparison: <c>workers</c> service processes sharing one Redis key prefix (so they
    /// serve one queue, and not the other side's) and one image folder, as a shared volume would be: a job's images can
    /// be read back through any replica, whichever ran it.
    /// </summary>
    private sealed class Side : IAsyncDisposable
    {
        private readonly List<ServiceProcess> _processes = [];
        private readonly string _images = Directory.CreateTempSubdirectory("diffusion-bench-images-").FullName;
        private HttpClient? _client;

        public static async Task<Side> StartAsync(string model, int redisPort, int workers)
        {
            var side = new Side();
            try
            {
                var settings = Settings(redisPort, "bench-" + Guid.NewGuid().ToString("N")[..8]);
                settings["Diffusion:DataDirectory"] = side._images;
                for (var i = 0; i < workers; i++) side._processes.Add(await ServiceProcess.StartAsync(model, settings));
                side._client = side._processes[0].CreateClient();
                return side;
            }
            catch
            {
                await side.DisposeAsync();
                throw;
            }
        }

        /// <summary>
        /// Runs jobs outside the timing until the processes are in their steady state. .NET's tiered JIT recompiles each
        /// method once it has been called often enough (with dynamic PGO, twice), and it waits for a lull in new
        /// compilations before counting calls, so a busy process takes well over a thousand jobs to settle. Measured on
        /// this service (DOTNET_JitDisasmSummary): 5,500 methods were compiled during 150 jobs after a 300-job warm-up,
        /// 1,087 after 500, and after 1,500 about 470, nearly all of them the shutdown's own; until then the JIT thread takes the core the second engine needs (about 5 s of
        /// CPU over a process's first 300 jobs). A service runs for hours, so steady state is what to compare. The warm-up
        /// jobs are 64x64 with the timed jobs' steps: the same code paths and call counts per job at a quarter of the cost.
        /// </summary>
        public Task WarmUpAsync(int jobsPerProcess, int steps) => RunJobsAsync(_client!, jobsPerProcess * _processes.Count, 64, steps, "warm-up");

        /// <summary>Queues the jobs at once and times them to the last one finished; prints the processes' CPU use.</summary>
        public async Task<double> MeasureAsync(int jobs, int size, int steps, Action<string> line)
        {
            var cpuBefore = _processes.Select(p => CpuSeconds(p.ProcessId)).ToArray();
            var started = Stopwatch.GetTimestamp();
            await RunJobsAsync(_client!, jobs, size, steps, "bench");
            var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var cpu = _processes.Select((p, i) => CpuSeconds(p.ProcessId) - cpuBefore[i]).ToArray();
            line($"  {_processes.Count} process(es): {jobs / elapsed:F2} jobs/s; CPU s of each process {string.Join(", ", cpu.Select(F))} " +
                $"({cpu.Sum() / elapsed:F2} cores busy, {cpu.Sum() / jobs * 1000:F0} ms CPU per job)");
            return jobs / elapsed;
        }

        public async ValueTask DisposeAsync()
        {
            _client?.Dispose();
            foreach (var process in _processes) await process.DisposeAsync();
            Directory.Delete(_images, recursive: true);
        }
    }

    /// <summary>Queues <paramref name="jobs"/> async jobs at once, then waits until each has succeeded.</summary>
    private static async Task RunJobsAsync(HttpClient client, int jobs, int size, int steps, string prompt)
    {
        var locations = new List<string>(jobs);
        for (var i = 0; i < jobs; i++)
        {
            using var response = await client.PostAsJsonAsync("/v1/jobs", new { prompt = $"{prompt} {i}", size = $"{size}x{size}", steps, seed = i });
            if (response.StatusCode != HttpStatusCode.Accepted)
                throw new InvalidOperationException($"{prompt} submission {i}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
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
    }

    /// <summary>User + system CPU seconds a process has used so far (Linux /proc, in clock ticks of 1/100 s).</summary>
    private static double CpuSeconds(int processId)
    {
        var stat = File.ReadAllText($"/proc/{processId}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
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
