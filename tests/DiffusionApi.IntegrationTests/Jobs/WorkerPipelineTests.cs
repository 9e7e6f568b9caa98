using System.Net;
using System.Net.Http.Json;
using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionApi.Jobs;
using DiffusionApi.Storage;
using Serilog.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace DiffusionApi.IntegrationTests.Jobs;

/// <summary>The worker's stages: the engine does not wait for the previous batch's images to be stored; a stale result is fenced out.</summary>
public sealed class WorkerPipelineTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task StoringABatchsImages_OverlapsTheEngineWorkOfTheNextBatch()
    {
        var store = new HeldImageStore();
        await using var factory = new DiffusionApiFactory(
            new Dictionary<string, string?> { ["Diffusion:Batching:MaxBatchSize"] = "1", ["Diffusion:Batching:MaxDelayMs"] = "0" },
            services: s => s.Replace(ServiceDescriptor.Singleton<IImageStore>(sp => store.Wrap(ActivatorUtilities.CreateInstance<FileSystemImageStore>(sp)))));
        var client = await factory.CreateReadyClientAsync();
        store.Hold();

        var first = client.PostGenerateAsync(Requests.Small(prompt: "first"));
        await store.WaitForHeldPutAsync(Timeout); // the first batch left the engine; its image is being stored
        var second = client.PostGenerateAsync(Requests.Small(prompt: "second"));

        // Were finishing and the engine one loop, "second" could not reach the engine before the store let go.
        var deadline = DateTime.UtcNow + Timeout;
        while (!factory.Probe.PromptsSeen.Contains("second") && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.Contains("second", factory.Probe.PromptsSeen);
        Assert.False(first.IsCompleted);

        store.Release();
        Assert.Equal(HttpStatusCode.OK, (await first).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await second).StatusCode);
    }

    [Fact]
    public async Task AResultForAJobAnotherWorkerTookOver_IsDiscarded_AndItsImagesAreDeleted()
    {
        var sink = new CollectingSink();
        await using var factory = new DiffusionApiFactory(services: s => s.AddSingleton<ILogEventSink>(sink));
        var client = await factory.CreateReadyClientAsync();
        factory.Probe.Hold();
        var accepted = await client.PostAsJsonAsync("/v1/jobs", Requests.Small(n: 2));
        var jobId = accepted.Headers.GetValues("X-Job-Id").Single();
        await factory.Probe.WaitForHeldCallAsync(Timeout);

        // As after an expired lease: another worker starts the job with the next attempt while this one still runs it.
        var jobs = factory.Services.GetRequiredService<IJobStore>();
        Assert.Equal(StartResult.Started, await jobs.TryStartAsync(jobId, new JobFence("other-worker", 2)));
        factory.Probe.Release();

        var deadline = DateTime.UtcNow + Timeout;
        while (!sink.Contains("were discarded") && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.True(sink.Contains("were discarded"), "the stale result was not discarded");
        Assert.Empty(Directory.GetFiles(Path.Combine(factory.DataDirectory, "images")));
        var record = (await jobs.GetAsync(jobId)).Job!;
        Assert.Equal((JobState.Running, "other-worker", 2, (IReadOnlyList<JobImageRef>?)null), (record.State, record.Owner, record.Attempt, record.Images));
        Assert.True(await jobs.TryFinishAsync(jobId, new JobFence("other-worker", 2), JobOutcome.Cancelled));
    }

    /// <summary>Wraps the real image store; when held, every put waits until released (a slow object store stand-in).</summary>
    private sealed class HeldImageStore
    {
        private readonly SemaphoreSlim _entered = new(0);
        private volatile TaskCompletionSource? _gate;

        public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _gate?.TrySetResult();

        public async Task WaitForHeldPutAsync(TimeSpan timeout)
        {
            if (!await _entered.WaitAsync(timeout)) throw new TimeoutException("no put was held");
        }

        public IImageStore Wrap(IImageStore inner) => new Wrapper(inner, this);

        private sealed class Wrapper(IImageStore inner, HeldImageStore owner) : IImageStore
        {
            public async Task<string> PutAsync(string jobId, ReadOnlyMemory<byte> content, string contentType, string? imageOwner = null, CancellationToken cancellationToken = default)
            {
                if (owner._gate is { } gate)
                {
                    owner._entered.Release();
                    await gate.Task.WaitAsync(cancellationToken);
                }
                return await inner.PutAsync(jobId, content, contentType, imageOwner, cancellationToken);
            }

            public Task<StoredImage?> OpenAsync(string id, CancellationToken cancellationToken = default) => inner.OpenAsync(id, cancellationToken);

            public ValueTask<Uri?> GetDirectUrlAsync(string id, CancellationToken cancellationToken = default) => inner.GetDirectUrlAsync(id, cancellationToken);

            public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) => inner.DeleteAsync(id, cancellationToken);

            public Task<int> RemoveOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default) => inner.RemoveOlderThanAsync(cutoff, cancellationToken);
        }
    }
}
