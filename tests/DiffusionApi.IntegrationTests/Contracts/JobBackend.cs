using DiffusionApi.Jobs;
using DiffusionApi.Model;
using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;

namespace DiffusionApi.IntegrationTests.Contracts;

/// <summary>
/// A job queue, job store and progress bus on one backend, as the contract suites need them: admission writes the
/// store's record, and workers' writes are fenced against it, so the three are always made together.
/// </summary>
public sealed record JobBackend(IJobQueue Queue, IJobStore Store, IProgressBus Bus);

/// <summary>What a contract test chooses about the backend it gets; short durations keep expiry tests quick.</summary>
public sealed record JobBackendSettings
{
    public int Capacity { get; init; } = 16;
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromMinutes(1);
    public TimeSpan Retention { get; init; } = TimeSpan.FromHours(1);
    public TimeSpan SyncRetention { get; init; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// The base of the queue, store and bus contract suites: a backend implementation subclasses each suite and says how
/// to make a fresh, empty backend (and clean it up, through IDisposable or IAsyncLifetime, when it holds anything).
/// </summary>
public abstract class JobBackendContract
{
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    protected abstract JobBackend CreateBackend(JobBackendSettings settings);

    protected JobBackend CreateBackend() => CreateBackend(new JobBackendSettings());

    /// <summary>A job for the tiny model; jobs with equal <paramref name="steps"/> (and defaults otherwise) share a batch key.</summary>
    protected static JobDescriptor NewJob(string prompt = "a red fox", int steps = 2, int images = 1, JobKind kind = JobKind.Async, string? idempotencyKey = null, string model = "tiny-sd")
    {
        var spec = new GenerationSpec(model, prompt, "", 64, 64, steps, 7.5f, 42, images, null, ImageFormat.Png, RngKind.Cpu, ResponseFormat.Url, null);
        // The queue compares keys as opaque strings: any text that is equal for equal steps will do.
        return JobDescriptor.Create(spec, $"64x64/steps={steps}/model={model}", kind, idempotencyKey, TimeProvider.System);
    }

    protected static async Task<JobDescriptor> EnqueueAsync(JobBackend backend, JobDescriptor job)
    {
        var outcome = await backend.Queue.EnqueueAsync(job);
        Assert.Equal(new EnqueueOutcome(EnqueueResult.Accepted, job.Id), outcome);
        return job;
    }

    /// <summary>Leases the next batch, failing the test if none comes within <see cref="Patience"/>.</summary>
    protected static async Task<IReadOnlyList<LeasedJob>> LeaseAsync(JobBackend backend, string worker = "worker-a", int maxImages = 4, TimeSpan maxDelay = default, string? model = null)
    {
        using var timeout = new CancellationTokenSource(Patience);
        return await backend.Queue.LeaseBatchAsync(worker, new BatchLimits(maxImages, maxDelay, model is null ? null : [model]), timeout.Token)
            ?? throw new Xunit.Sdk.XunitException("the queue answered null (stop) instead of a batch");
    }

    /// <summary>Whether a lease gets anything within <paramref name="window"/> (null: nothing came).</summary>
    protected static async Task<IReadOnlyList<LeasedJob>?> TryLeaseAsync(JobBackend backend, TimeSpan window, string worker = "worker-b")
    {
        using var timeout = new CancellationTokenSource(window);
        try
        {
            return await backend.Queue.LeaseBatchAsync(worker, new BatchLimits(4, TimeSpan.Zero), timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    protected static async Task<JobSnapshot> GetAsync(JobBackend backend, string jobId)
    {
        var lookup = await backend.Store.GetAsync(jobId);
        Assert.Equal(JobPresence.Found, lookup.Presence);
        return lookup.Job!;
    }

    /// <summary>Polls until <paramref name="condition"/> holds, failing the test after <see cref="Patience"/>.</summary>
    protected static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new Xunit.Sdk.XunitException($"timed out waiting until {what}");
            await Task.Delay(20);
        }
    }
}
