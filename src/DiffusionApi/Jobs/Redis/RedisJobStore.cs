using System.Globalization;
using StackExchange.Redis;

namespace DiffusionApi.Jobs.Redis;

/// <summary>
/// The shared <see cref="IJobStore"/>: one hash per job (<c>P:job:ID</c>), every write one script
/// (<see cref="RedisJobScripts"/>), so the state machine and the fence (owner + attempt) are checked and applied
/// atomically whichever replica writes. Expiry is Redis's own: a finished record gets a TTL of its retention, an async
/// job a <c>P:gone:ID</c> marker for twice as long, so the sweep has nothing to do.
/// Concurrency: safe from any thread and replica.
/// </summary>
public sealed class RedisJobStore(IConnectionMultiplexer redis, RedisJobSettings settings) : IJobStore
{
    private IDatabase Db => redis.GetDatabase();

    public async ValueTask<JobLookup> GetAsync(string jobId, CancellationToken cancellationToken = default)
    {
        var fields = await Db.HashGetAllAsync(settings.JobKey(jobId));
        // A record has its "job" field from admission on; an expiring hash read at the wrong moment has none.
        if (fields.Length > 0 && fields.Any(f => f.Name == "job")) return JobLookup.Found(RedisJobRecord.Parse(fields));
        var gone = (string?)await Db.StringGetAsync(settings.GoneKey(jobId));
        if (gone is null) return JobLookup.NotFound;
        return JobLookup.GoneFor(gone.StartsWith("o:", StringComparison.Ordinal) ? gone[2..] : null);
    }

    public async ValueTask<StartResult> TryStartAsync(string jobId, JobFence fence, CancellationToken cancellationToken = default)
    {
        var result = await EvalAsync(RedisJobScripts.Start, jobId, fence.Owner, Text(fence.Attempt));
        return Enum.Parse<StartResult>(result.ToString());
    }

    public async ValueTask<bool> TryReportProgressAsync(string jobId, JobFence fence, int step, int totalSteps, CancellationToken cancellationToken = default) =>
        (int)await EvalAsync(RedisJobScripts.Progress, jobId, fence.Owner, Text(fence.Attempt), Text(step), Text(totalSteps)) == 1;

    public async ValueTask<bool> TryRequeueAsync(string jobId, JobFence fence, CancellationToken cancellationToken = default) =>
        (int)await EvalAsync(RedisJobScripts.Requeue, jobId, fence.Owner, Text(fence.Attempt)) == 1;

    public async ValueTask<bool> TryFinishAsync(string jobId, JobFence? fence, JobOutcome outcome, CancellationToken cancellationToken = default)
    {
        if (!outcome.State.IsFinal()) throw new ArgumentException($"the outcome must be a final state but was {outcome.State}", nameof(outcome));
        var images = outcome.Images is { } list ? JobJson.Serialize(list) : "";
        var failure = outcome.Failure is { } why ? JobJson.Serialize(why) : "";
        var result = await EvalAsync(RedisJobScripts.Finish, jobId, fence?.Owner ?? "", Text(fence?.Attempt ?? 0), outcome.State.ToString(), images, failure,
            Millis(settings.Retention.Async), Millis(settings.Retention.Sync));
        return (int)result == 1;
    }

    public async ValueTask<CancelOutcome> RequestCancelAsync(string jobId, CancellationToken cancellationToken = default)
    {
        var reply = (RedisResult[])(await EvalAsync(RedisJobScripts.Cancel, jobId, Millis(settings.Retention.Async), Millis(settings.Retention.Sync)))!;
        var result = Enum.Parse<CancelResult>(reply[0].ToString());
        return new CancelOutcome(result, reply.Length > 1 ? RedisJobRecord.Parse(reply, 1) : null);
    }

    /// <summary>Redis expires records and Gone markers by their TTLs: nothing is left to sweep.</summary>
    public ValueTask<int> SweepExpiredAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(0);

    private Task<RedisResult> EvalAsync(string script, params RedisValue[] args) =>
        Db.ScriptEvaluateAsync(script, keys: null, values: [settings.Prefix, .. args]);

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    internal static string Millis(TimeSpan span) => Math.Max(1, (long)span.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
}
