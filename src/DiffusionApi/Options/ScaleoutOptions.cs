using System.ComponentModel.DataAnnotations;

namespace DiffusionApi.Options;

/// <summary>
/// Where jobs, their state and their progress live (<c>Diffusion:Scaleout</c>): the backend behind the job queue, job
/// store and progress bus. <c>InMemory</c> (the default) is one process with nothing shared; <c>Redis</c> lets several
/// replicas serve as one (docs/scaling.md).
/// </summary>
public sealed class ScaleoutOptions : IValidatableObject
{
    public const string SectionName = "Diffusion:Scaleout";

    /// <summary>Jobs in this process's memory: the queue, records and events die with it.</summary>
    public const string InMemoryBackend = "InMemory";

    /// <summary>Jobs in Redis (Streams, hashes, pub/sub), shared by every replica that names the same server and prefix.</summary>
    public const string RedisBackend = "Redis";

    /// <summary>The backend: <c>InMemory</c> or <c>Redis</c>.</summary>
    public string Backend { get; set; } = InMemoryBackend;

    /// <summary>A StackExchange.Redis connection string (<c>127.0.0.1:6379</c>, <c>redis:6379,password=…,ssl=true</c>); required for Redis.</summary>
    public string Redis { get; set; } = "";

    /// <summary>The prefix of every Redis key and channel: replicas with the same prefix serve as one.</summary>
    [RegularExpression("^[A-Za-z0-9_.-]{1,64}$")]
    public string KeyPrefix { get; set; } = "diffusion";

    /// <summary>
    /// With Redis: jobs that may wait across all replicas; one more is answered 503 + Retry-After. 0 uses
    /// <c>Diffusion:Queue:Capacity</c>.
    /// </summary>
    [Range(0, 1_000_000)]
    public int MaxQueueLength { get; set; }

    /// <summary>
    /// How long a worker's lease on a job lasts without renewal; the worker renews it three times per period. When it
    /// runs out (the worker died or stalled), the job is leased again with the next attempt.
    /// </summary>
    [Range(3, 3600)]
    public int LeaseSeconds { get; set; } = 60;

    /// <summary>With Redis: leases a job may have before a job whose last worker also vanished fails (and is dead-lettered).</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>With Redis: how often an idle worker looks for work when no wake-up arrives (and the reaper runs).</summary>
    [Range(50, 60_000)]
    public int PollIntervalMs { get; set; } = 1000;

    public bool IsRedis => string.Equals(Backend, RedisBackend, StringComparison.OrdinalIgnoreCase);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (SettingChoice.Check($"{SectionName}:{nameof(Backend)}", Backend, nameof(Backend), InMemoryBackend, RedisBackend) is { } error) yield return error;
        if (IsRedis && string.IsNullOrWhiteSpace(Redis))
            yield return new ValidationResult($"{SectionName}:{nameof(Redis)} must name the Redis server (e.g. 127.0.0.1:6379) when {SectionName}:{nameof(Backend)} is Redis.", [nameof(Redis)]);
    }
}
