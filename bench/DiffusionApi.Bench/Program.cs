using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using DiffusionApi.Bench;
using DiffusionApi.Testing;
using DiffusionEngine.TinyModel;

// dotnet run -c Release --project bench/DiffusionApi.Bench -- [--requests N] [--out docs/api-bench.md]
// Service throughput through POST /v1/generate against the same work in-process, batching gain with 8 clients,
// and the time to answer 503 when the queue is full. Everything on 127.0.0.1; every run is bounded.
// dotnet run -c Release --project bench/DiffusionApi.Bench -- scaleout [--smoke] [--out FILE]: issue 10's scale-out
// figures (ScaleoutBench): two worker processes against one over Redis, and the latency Redis adds per job.
if (args.Length > 0 && args[0] == "scaleout")
{
    var scaleoutModel = TinyModelBuilder.EnsureDefault(Directory.CreateTempSubdirectory("diffusion-api-bench-model-").FullName);
    return await ScaleoutBench.RunAsync(scaleoutModel, args[1..]);
}

var settings = new BenchSettings();
string? outPath = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--requests": settings = settings with { Requests = int.Parse(args[++i], CultureInfo.InvariantCulture) }; break;
        case "--out": outPath = args[++i]; break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}

var loadBefore = LoadAverage();
// A fresh tiny model for every run, so it always matches the engine being measured.
var modelRoot = Directory.CreateTempSubdirectory("diffusion-api-bench-model-").FullName;
var model = TinyModelBuilder.EnsureDefault(modelRoot);
var report = new StringBuilder();
Task<ServiceProcess> StartService(Dictionary<string, string> serviceSettings)
{
    // Per-request log lines would measure the console, not the service.
    serviceSettings["Serilog:MinimumLevel:Default"] = "Warning";
    return ServiceProcess.StartAsync(model, serviceSettings);
}
void Line(string text = "")
{
    Console.WriteLine(text);
    report.AppendLine(text);
}

// Our machines are shared and noisy: each comparison interleaves its two sides, three rounds, and reports medians.
using var inProcessEngine = new InProcessBaseline(model, settings);
var inProcessRuns = new List<RunResult>();
var inProcess4Runs = new List<RunResult>();
var http1Runs = new List<RunResult>();
var httpOnlyRuns = new List<RunResult>();
var eightBatch1Runs = new List<RunResult>();
var eightBatch4Runs = new List<RunResult>();
RunResult http1Delay;

// 1. One client through HTTP (MaxDelayMs 0: a lone request would otherwise wait for company) against the same work in-process.
await using (var service = await StartService(new Dictionary<string, string> { ["Diffusion:Batching:MaxBatchSize"] = "1", ["Diffusion:Batching:MaxDelayMs"] = "0" }))
{
    using var client = HttpLoad.CreateClient(service.BaseAddress);
    for (var round = 0; round < 3; round++)
    {
        inProcessRuns.Add(inProcessEngine.Run(batchSize: 1, settings.Requests));
        http1Runs.Add(await HttpLoad.GenerateAsync("HTTP, 1 client, MaxBatchSize 1, MaxDelayMs 0", client, settings, clients: 1, settings.Requests));
        inProcess4Runs.Add(inProcessEngine.Run(batchSize: 4, settings.Requests));
        httpOnlyRuns.Add(await HttpLoad.GetAsync("HTTP only: GET /v1/models, 1 client (reference)", client, "/v1/models", settings.Requests));
    }
}

// 2. Eight clients, MaxBatchSize 1 against 4, alternating services.
for (var round = 0; round < 3; round++)
{
    foreach (var maxBatch in new[] { 1, 4 })
    {
        await using var service = await StartService(new Dictionary<string, string>
        {
            ["Diffusion:Batching:MaxBatchSize"] = maxBatch.ToString(CultureInfo.InvariantCulture),
            ["Diffusion:Batching:MaxDelayMs"] = "20",
        });
        using var client = HttpLoad.CreateClient(service.BaseAddress);
        var run = await HttpLoad.GenerateAsync($"HTTP, 8 clients, MaxBatchSize {maxBatch}, MaxDelayMs 20", client, settings, settings.Clients, settings.Requests * 2);
        (maxBatch == 1 ? eightBatch1Runs : eightBatch4Runs).Add(run);
    }
}
await using (var service = await StartService(new Dictionary<string, string> { ["Diffusion:Batching:MaxBatchSize"] = "4", ["Diffusion:Batching:MaxDelayMs"] = "20" }))
{
    using var client = HttpLoad.CreateClient(service.BaseAddress);
    http1Delay = await HttpLoad.GenerateAsync("HTTP, 1 client, MaxBatchSize 4, MaxDelayMs 20 (default)", client, settings, clients: 1, settings.Requests / 4);
}
var inProcess = Median([.. inProcessRuns]);
var inProcess4 = Median([.. inProcess4Runs]);
var http1 = Median([.. http1Runs]);
var httpOnly = Median([.. httpOnlyRuns]);
var eightBatch1 = Median([.. eightBatch1Runs]);
var eightBatch4 = Median([.. eightBatch4Runs]);
var httpRatio = MedianOf(http1Runs.Zip(inProcessRuns, (h, p) => h.RequestsPerSecond / p.RequestsPerSecond));
var batchGain = MedianOf(eightBatch4Runs.Zip(eightBatch1Runs, (b4, b1) => b4.RequestsPerSecond / b1.RequestsPerSecond));

// 3. 503 latency: queue capacity 1, the worker busy with a long job and one job waiting; every further request is refused.
RunResult rejections, rejections1;
await using (var service = await StartService(new Dictionary<string, string>
{
    ["Diffusion:Queue:Capacity"] = "1",
    ["Diffusion:Batching:MaxBatchSize"] = "1",
    ["Diffusion:Batching:MaxDelayMs"] = "0",
}))
{
    using var client = HttpLoad.CreateClient(service.BaseAddress);
    var slow = new { prompt = "slow", size = "512x512", steps = 150, seed = 1 };
    // One slow job runs, one waits: the queue (capacity 1) is then full and every further request is refused.
    var running = client.PostAsJsonAsync("/v1/generate", slow);
    await Task.Delay(1000);
    var waiting = client.PostAsJsonAsync("/v1/generate", slow);
    while (true)
    {
        await Task.Delay(200);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            using var probe = await client.PostAsJsonAsync("/v1/generate", HttpLoad.Body(settings, 0), timeout.Token);
            if (probe.StatusCode == HttpStatusCode.ServiceUnavailable) break;
        }
        catch (OperationCanceledException)
        {
            // That probe was queued instead of refused; the next one finds the queue full.
        }
    }
    rejections1 = await HttpLoad.GenerateAsync("503 when full, 1 client", client, settings, 1, settings.RejectionRequests, HttpStatusCode.ServiceUnavailable);
    rejections = await HttpLoad.GenerateAsync("503 when full, 8 clients", client, settings, settings.Clients, settings.RejectionRequests, HttpStatusCode.ServiceUnavailable);
    _ = (running, waiting); // the service is killed on dispose; these never finish
}

string F(double value) => value.ToString("0.0", CultureInfo.InvariantCulture);
string F2(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);

Line("# DiffusionApi benchmark");
Line();
Line($"Command: `dotnet run -c Release --project bench/DiffusionApi.Bench --{(outPath is null ? "" : $" --out {outPath}")}`  ");
Line($"Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC  ");
Line($"Machine: {CpuModel()}, {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}  ");
Line($"Work: built-in tiny model, {settings.Size}×{settings.Size}, {settings.Steps} steps, PNG; client and service on 127.0.0.1 in separate processes.");
Line();
Line("| run | requests | requests/s | p50 ms | p99 ms |");
Line("|---|---:|---:|---:|---:|");
foreach (var run in new[] { inProcess, inProcess4, httpOnly, http1, http1Delay, eightBatch1, eightBatch4, rejections1, rejections })
    Line($"| {run.Name} | {run.Requests} | {F(run.RequestsPerSecond)} | {F2(run.Percentile(50))} | {F2(run.Percentile(99))} |");
Line();
Line("| figure | value | goal |");
Line("|---|---:|---|");
Line($"| HTTP (1 client, no batching delay) / in-process | {F2(httpRatio)} | ≥ 0.9 |");
Line($"| 8 clients: MaxBatchSize 4 / MaxBatchSize 1 | {F2(batchGain)}× | ≥ 1.3× |");
Line($"| in-process: batch 4 / batch 1 (the engine's own batching gain, for reference) | {F2(inProcess4.RequestsPerSecond / inProcess.RequestsPerSecond)}× | |");
Line($"| p99 time to answer 503 with the queue full, 1 client | {F2(rejections1.Percentile(99))} ms | < 10 ms |");
Line($"| p99 time to answer 503 with the queue full, 8 clients | {F2(rejections.Percentile(99))} ms | < 10 ms |");
Line();
Line("Each row is the median of three runs; ratios are medians of per-round ratios, the two sides of each run back to back.");
Line("In-process rows time one `Generate` call per batch (latency columns are per call);");
Line($"HTTP rows time each request from the client, which shares the {Environment.ProcessorCount} cores with the service.");
Line($"Load average (1 min) before / after the run: {loadBefore} / {LoadAverage()} (other work on the machine shows here).");

inProcessEngine.Dispose();
Directory.Delete(modelRoot, recursive: true);

if (outPath is not null)
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
    await File.WriteAllTextAsync(outPath, report.ToString());
}
return 0;

static RunResult Median(params RunResult[] runs) => runs.OrderBy(r => r.RequestsPerSecond).ElementAt(runs.Length / 2);

static double MedianOf(IEnumerable<double> values) => values.Order().ElementAt(values.Count() / 2);

static string LoadAverage()
{
    try
    {
        return File.ReadAllText("/proc/loadavg").Split(' ')[0];
    }
    catch (IOException)
    {
        return "n/a";
    }
}

static string CpuModel()
{
    try
    {
        var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
    }
    catch (IOException)
    {
        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
