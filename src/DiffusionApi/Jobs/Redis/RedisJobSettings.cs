namespace DiffusionApi.Jobs.Redis;

/// <summary>
/// What the Redis queue, store and bus of one deployment share: the key prefix (every replica of a deployment uses the
/// same one), the global bound on waiting jobs, lease and retry rules, and how long finished records are kept.
/// </summary>
/// <param name="Prefix">Prefix of every key and channel (<c>diffusion</c>); tests give each backend its own.</param>
/// <param name="Capacity">Waiting jobs across all replicas (<c>Diffusion:Scaleout:MaxQueueLength</c>).</param>
/// <param name="LeaseDuration">A lease not renewed for this long is reclaimed by the reaper.</param>
/// <param name="MaxAttempts">Leases a job may have; a job whose last lease also expired fails and goes to the dead-letter stream.</param>
/// <param name="PollInterval">A waiting worker looks again at least this often (pub/sub wake-ups are best effort).</param>
/// <param name="Retention">How long finished records are kept.</param>
public sealed record RedisJobSettings(
    string Prefix,
    int Capacity,
    TimeSpan LeaseDuration,
    int MaxAttempts,
    TimeSpan PollInterval,
    InMemory.JobRetention Retention)
{
    public const string DefaultPrefix = "diffusion";

    /// <summary>The consumer group every worker reads the job streams through.</summary>
    public const string Group = "workers";

    /// <summary>
    /// The group's consumer that holds delivered entries of jobs still waiting (read from the stream, passed over by a
    /// batch or given back): a lease claims from it, a release and the reaper claim back into it.
    /// </summary>
    public const string ParkingConsumer = "~queue";

    public string JobKey(string jobId) => $"{Prefix}:job:{jobId}";

    public string GoneKey(string jobId) => $"{Prefix}:gone:{jobId}";

    public string EventsChannel(string jobId) => $"{Prefix}:events:{jobId}";

    public string WakeChannel => $"{Prefix}:wake";

    /// <summary>The stream of one model's jobs (KEDA's <c>redis-streams</c> scaler reads its group's lag).</summary>
    public string StreamKey(string model) => $"{Prefix}:stream:{model}";
}
