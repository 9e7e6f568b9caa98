using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionApi.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionApi.IntegrationTests.Jobs;

public sealed class BatchingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static DiffusionApiFactory Create(int maxBatchSize, int maxDelayMs = 0) => new(new Dictionary<string, string?>
    {
        ["Diffusion:Batching:MaxBatchSize"] = maxBatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Diffusion:Batching:MaxDelayMs"] = maxDelayMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    [Fact]
    public async Task ConcurrentCompatibleRequests_RunAsOneEngineBatch()
    {
        await using var factory = Create(maxBatchSize: 4);
        var client = await factory.CreateReadyClientAsync();
        var batchSizes = new List<int>();
        using var listener = ListenToBatchSizes(factory, batchSizes);
        var first = await factory.HoldOnARunningJobAsync(client, Timeout);

        // While the worker is busy, four compatible requests queue up; they must share one engine call.
        var others = Enumerable.Range(0, 4).Select(i => client.PostGenerateAsync(Requests.Small(prompt: $"p{i}", seed: (ulong)i))).ToArray();
        var queue = factory.Services.GetRequiredService<DiffusionApi.Jobs.IJobQueue>();
        while (queue.Stats.Depth < 4) await Task.Delay(5);
        factory.Probe.Release();

        Assert.Equal(HttpStatusCode.OK, (await first).StatusCode);
        foreach (var response in await Task.WhenAll(others)) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var batches = factory.Probe.Batches;
        Assert.Equal(2, batches.Count);
        Assert.Equal(["p0", "p1", "p2", "p3"], batches[1].Select(r => r.Prompt).Order());
        lock (batchSizes) Assert.Equal([1, 4], batchSizes);
    }

    [Fact]
    public async Task IncompatibleJobs_KeepTheirOrder_AndBatchesNeverExceedMaxBatchSize()
    {
        await using var factory = Create(maxBatchSize: 2);
        var client = await factory.CreateReadyClientAsync();
        var first = await factory.HoldOnARunningJobAsync(client, Timeout);

        // Queue order: a(2 steps) b(3) c(2) d(3) e(2). Compatible jobs join the earlier batch; order is otherwise kept.
        var jobs = new[] { ("a", 2), ("b", 3), ("c", 2), ("d", 3), ("e", 2) };
        var pending = await factory.QueueInOrderAsync(client, jobs.Select(j => Requests.Small(prompt: j.Item1, steps: j.Item2)));
        factory.Probe.Release();

        foreach (var response in await Task.WhenAll(pending.Append(first))) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var batches = factory.Probe.Batches.Skip(1).Select(b => string.Concat(b.Select(r => r.Prompt))).ToArray();
        Assert.Equal(["ac", "bd", "e"], batches);
    }

    [Fact]
    public async Task JobsWithoutGuidance_NeverShareABatchWithGuidedJobs_AndEveryGatheredBatchHasOneEngineKey()
    {
        await using var factory = Create(maxBatchSize: 4);
        var client = await factory.CreateReadyClientAsync();
        var first = await factory.HoldOnARunningJobAsync(client, Timeout);

        // Queue order: a(7.5) b(1) c(7.5) d(1) e(0): guidance ≤ 1 runs no unconditional pass, so b, d, e batch apart.
        var jobs = new[] { ("a", 7.5), ("b", 1.0), ("c", 7.5), ("d", 1.0), ("e", 0.0) };
        var pending = await factory.QueueInOrderAsync(client, jobs.Select(j =>
        {
            var body = (Dictionary<string, object?>)Requests.Small(prompt: j.Item1);
            body["guidance_scale"] = j.Item2;
            return (object)body;
        }));
        factory.Probe.Release();

        foreach (var response in await Task.WhenAll(pending.Append(first))) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var batches = factory.Probe.Batches.Skip(1).ToArray();
        Assert.Equal(["ac", "bde"], batches.Select(b => string.Concat(b.Select(r => r.Prompt))));
        // The engine's own key agrees: what the gatherer put together is one engine batch, never split or refused.
        var registry = factory.Services.GetRequiredService<DiffusionApi.Engine.ModelRegistry>();
        var model = registry.StatusOf(registry.Default).Info!;
        foreach (var batch in batches)
            Assert.Single(batch.Select(r => DiffusionEngine.Pipelines.BatchKey.For(r, model)).Distinct());
    }

    [Fact]
    public async Task ImageJobs_BatchByModeAndFirstStep_WhileDifferentImagesShareABatch()
    {
        await using var factory = Create(maxBatchSize: 4);
        var client = await factory.CreateReadyClientAsync();
        var first = await factory.HoldOnARunningJobAsync(client, Timeout);
        var gradient = Convert.ToBase64String(TestImages.Gradient());
        var noise = Convert.ToBase64String(TestImages.Noise(64, 64));
        var mask = Convert.ToBase64String(TestImages.LuminanceMask(64, 64, (x, _) => x < 32));

        // 4 steps: strength 0.5 starts at step 2, strength 1 at step 0; a, c (img2img, step 2, different images) share a
        // batch; b (img2img, step 0), d (text-to-image) and e (inpainting) each run apart.
        var jobs = new (string Prompt, string? Image, double? Strength, string? Mask)[]
        {
            ("a", gradient, 0.5, null), ("b", gradient, 1.0, null), ("c", noise, 0.5, null), ("d", null, null, null), ("e", gradient, 0.5, mask),
        };
        var pending = await factory.QueueInOrderAsync(client, jobs.Select(j =>
        {
            var body = (Dictionary<string, object?>)Requests.Small(prompt: j.Prompt, steps: 4);
            if (j.Image is not null) (body["image"], body["strength"]) = (j.Image, j.Strength);
            if (j.Mask is not null) body["mask"] = j.Mask;
            return (object)body;
        }));
        factory.Probe.Release();

        foreach (var response in await Task.WhenAll(pending.Append(first))) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var batches = factory.Probe.Batches.Skip(1).ToArray();
        Assert.Equal(["ac", "b", "d", "e"], batches.Select(b => string.Concat(b.Select(r => r.Prompt))));
        var registry = factory.Services.GetRequiredService<DiffusionApi.Engine.ModelRegistry>();
        var model = registry.StatusOf(registry.Default).Info!;
        foreach (var batch in batches)
            Assert.Single(batch.Select(r => DiffusionEngine.Pipelines.BatchKey.For(r, model)).Distinct());
    }

    [Fact]
    public async Task RequestForMoreImagesThanMaxBatchSize_RunsInSeveralEngineCalls()
    {
        await using var factory = Create(maxBatchSize: 2);
        var client = await factory.CreateReadyClientAsync();

        var response = await client.PostGenerationsAsync(Requests.Small(n: 3, seed: 50));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seeds = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data").EnumerateArray().Select(d => d.GetProperty("seed").GetUInt64());
        Assert.Equal([50UL, 51UL, 52UL], seeds);
        Assert.Equal([2, 1], factory.Probe.Batches.Select(b => b.Count));
    }

    [Fact]
    public async Task IdleWorker_WaitsUpToMaxDelayForCompatibleJobs()
    {
        await using var factory = Create(maxBatchSize: 4, maxDelayMs: 2000);
        var client = await factory.CreateReadyClientAsync();

        var first = client.PostGenerateAsync(Requests.Small(prompt: "first"));
        await Task.Delay(200);
        var second = client.PostGenerateAsync(Requests.Small(prompt: "second"));

        Assert.Equal(HttpStatusCode.OK, (await first).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await second).StatusCode);
        Assert.Equal(["first", "second"], Assert.Single(factory.Probe.Batches).Select(r => r.Prompt));
    }

    [Fact]
    public async Task FailingBatch_FailsItsOwnJobs_AndTheWorkerGoesOn()
    {
        await using var factory = Create(maxBatchSize: 1);
        var client = await factory.CreateReadyClientAsync();
        factory.Probe.FailingPrompt = "explode";

        var failed = await client.PostGenerateAsync(Requests.Small(prompt: "explode"));
        var next = await client.PostGenerateAsync(Requests.Small(prompt: "fine"));

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        var problem = await failed.ReadProblemAsync();
        Assert.Contains("simulated ONNX Runtime fault", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    private static MeterListener ListenToBatchSizes(DiffusionApiFactory factory, List<int> sizes)
    {
        var meterFactory = factory.Services.GetRequiredService<IMeterFactory>();
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == DiffusionMetrics.BatchSizeName && ReferenceEquals(instrument.Meter.Scope, meterFactory)) l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<int>((_, value, _, _) =>
        {
            lock (sizes) sizes.Add(value);
        });
        listener.Start();
        return listener;
    }
}
