using System.Collections.Concurrent;
using DiffusionApi.Options;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Jobs;

/// <summary>An async job (POST /v1/jobs): the queued job and the handle DELETE uses to cancel it.</summary>
public sealed class AsyncJob(GenerationJob job, CancellationTokenSource cancellation)
{
    public GenerationJob Job { get; } = job;

    public void Cancel() => cancellation.Cancel();

    internal void Release() => cancellation.Dispose();
}

/// <summary>
/// Async jobs by id until they expire: a finished job is kept as long as its images (Diffusion:Storage:RetentionHours),
/// then forgotten (404). Expired entries are swept whenever a job is added. Thread-safe.
/// </summary>
public sealed class JobRegistry(IOptions<StorageOptions> storage, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, AsyncJob> _jobs = new(StringComparer.Ordinal);
    private readonly TimeSpan _retention = TimeSpan.FromHours(storage.Value.RetentionHours);

    public void Add(AsyncJob job)
    {
        SweepExpired();
        _jobs[job.Job.Id] = job;
    }

    public AsyncJob? Find(string id) => _jobs.GetValueOrDefault(id);

    private void SweepExpired()
    {
        var cutoff = time.GetUtcNow() - _retention;
        foreach (var (id, entry) in _jobs)
        {
            if (entry.Job.Completion.IsCompleted && entry.Job.CreatedAt < cutoff && _jobs.TryRemove(id, out var removed)) removed.Release();
        }
    }
}
