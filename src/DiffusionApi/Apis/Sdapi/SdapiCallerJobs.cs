using System.Collections.Concurrent;

namespace DiffusionApi.Apis.Sdapi;

/// <summary>
/// The A1111 jobs each caller is waiting for on this replica, so that /sdapi/v1/progress reports the caller's own job
/// and /interrupt and /skip stop only the caller's jobs (A1111 has one global job; we serve many clients). A caller is
/// its API key, or without one its address (<see cref="Extensions.RateLimitingExtensions.CallerOf"/>).
/// Concurrency: safe from any thread.
/// </summary>
public sealed class SdapiCallerJobs
{
    /// <summary>One waiting A1111 request's job.</summary>
    public sealed record Entry(string JobId, DateTimeOffset Started, string JobTimestamp);

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, Entry>> _byCaller = new(StringComparer.Ordinal);

    public IDisposable Track(string caller, Entry entry)
    {
        var jobs = _byCaller.GetOrAdd(caller, _ => new ConcurrentDictionary<string, Entry>(StringComparer.Ordinal));
        jobs[entry.JobId] = entry;
        return new Untrack(this, caller, entry.JobId);
    }

    /// <summary>The caller's waiting jobs, oldest first.</summary>
    public IReadOnlyList<Entry> Of(string caller) =>
        _byCaller.TryGetValue(caller, out var jobs) ? jobs.Values.OrderBy(e => e.Started).ToArray() : [];

    private sealed class Untrack(SdapiCallerJobs owner, string caller, string jobId) : IDisposable
    {
        public void Dispose()
        {
            if (owner._byCaller.TryGetValue(caller, out var jobs)) jobs.TryRemove(jobId, out _);
        }
    }
}
