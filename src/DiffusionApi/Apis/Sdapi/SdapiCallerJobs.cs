using DiffusionApi.Jobs;
using System.Collections.Concurrent;

namespace DiffusionApi.Apis.Sdapi;

/// <summary>
/// The A1111 jobs each caller is waiting for on this replica, so that /sdapi/v1/progress reports the caller's own job
/// and /interrupt and /skip stop only the caller's jobs (A1111 has one global job; we serve many clients). A caller is
/// its API key, or without one its address (<see cref="Extensions.RateLimitingExtensions.CallerOf"/>).
/// While a job is tracked, its live previews (every step: A1111 jobs ask for them) are followed on the progress bus, and
/// the latest is the entry's <see cref="Entry.CurrentImage"/> (A1111's <c>current_image</c>).
/// Concurrency: safe from any thread.
/// </summary>
public sealed class SdapiCallerJobs(IProgressBus bus)
{
    /// <summary>One waiting A1111 request's job.</summary>
    public sealed record Entry(string JobId, DateTimeOffset Started, string JobTimestamp)
    {
        private volatile string? _currentImage;

        /// <summary>The latest live preview, base64 (as A1111's current_image); null until the first arrives.</summary>
        public string? CurrentImage
        {
            get => _currentImage;
            set => _currentImage = value;
        }
    }

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, Entry>> _byCaller = new(StringComparer.Ordinal);

    /// <summary>Tracks the caller's job and follows its previews until the returned handle is disposed.</summary>
    public async Task<IAsyncDisposable> TrackAsync(string caller, Entry entry, CancellationToken cancellationToken)
    {
        var jobs = _byCaller.GetOrAdd(caller, _ => new ConcurrentDictionary<string, Entry>(StringComparer.Ordinal));
        jobs[entry.JobId] = entry;
        var subscription = await bus.SubscribeAsync(entry.JobId, cancellationToken);
        return new Untrack(this, caller, entry.JobId, subscription, FollowPreviewsAsync(subscription, entry));
    }

    private static async Task FollowPreviewsAsync(IJobSubscription subscription, Entry entry)
    {
        await foreach (var jobEvent in subscription.Events.ReadAllAsync())
        {
            if (jobEvent is { Kind: JobEventKind.Preview, Preview: { } preview }) entry.CurrentImage = Convert.ToBase64String(preview);
        }
    }

    /// <summary>The caller's waiting jobs, oldest first.</summary>
    public IReadOnlyList<Entry> Of(string caller) =>
        _byCaller.TryGetValue(caller, out var jobs) ? jobs.Values.OrderBy(e => e.Started).ToArray() : [];

    private sealed class Untrack(SdapiCallerJobs owner, string caller, string jobId, IJobSubscription subscription, Task following) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (owner._byCaller.TryGetValue(caller, out var jobs)) jobs.TryRemove(jobId, out _);
            await subscription.DisposeAsync();
            await following;
        }
    }
}
