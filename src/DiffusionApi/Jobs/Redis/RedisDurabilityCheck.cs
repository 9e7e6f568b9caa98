using StackExchange.Redis;

namespace DiffusionApi.Jobs.Redis;

/// <summary>
/// Warns at start when the Redis server is set up to lose jobs: without the append-only file a restart loses the queue
/// and the records, and with an eviction policy other than <c>noeviction</c> a full Redis drops job keys. Read from INFO
/// in a script (CONFIG and a direct INFO need the client's admin mode, which the service does not ask for); where that
/// is not allowed it says that it could not check.
/// Never fails the start: the operator decides.
/// </summary>
public static partial class RedisDurabilityCheck
{
    /// <summary>The problems found (empty when the server runs with AOF and noeviction), or null when INFO is not allowed.</summary>
    public static async Task<IReadOnlyList<string>?> FindProblemsAsync(IConnectionMultiplexer redis)
    {
        string persistence, memory;
        try
        {
            // Through a script: the client reserves INFO for admin connections, and the server allows it in scripts.
            var db = redis.GetDatabase();
            persistence = (await db.ScriptEvaluateAsync("return redis.call('INFO', 'persistence')")).ToString();
            memory = (await db.ScriptEvaluateAsync("return redis.call('INFO', 'memory')")).ToString();
        }
        catch (Exception ex) when (ex is RedisServerException or RedisCommandException)
        {
            return null;
        }
        var problems = new List<string>();
        var aof = Field(persistence, "aof_enabled");
        if (aof != "1") problems.Add($"appendonly is '{(aof == "0" ? "no" : aof)}', expected 'yes'");
        var policy = Field(memory, "maxmemory_policy");
        if (policy != "noeviction") problems.Add($"maxmemory-policy is '{policy}', expected 'noeviction'");
        return problems;
    }

    private static string Field(string info, string name)
    {
        foreach (var line in info.Split('\n'))
        {
            if (line.StartsWith(name + ":", StringComparison.Ordinal)) return line[(name.Length + 1)..].Trim();
        }
        return "";
    }

    /// <summary>Logs what <see cref="FindProblemsAsync"/> found; an unreachable Redis is left to the readiness probe.</summary>
    public static async Task LogAsync(IConnectionMultiplexer redis, ILogger logger)
    {
        try
        {
            switch (await FindProblemsAsync(redis))
            {
                case null:
                    LogUnchecked(logger);
                    break;
                case { Count: > 0 } problems:
                    LogRisky(logger, string.Join("; ", problems));
                    break;
            }
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
        {
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Redis may lose jobs: {Problems} (run it with appendonly yes and maxmemory-policy noeviction; docs/scaling.md)")]
    private static partial void LogRisky(ILogger logger, string problems);

    [LoggerMessage(2, LogLevel.Information, "Could not read Redis's appendonly and maxmemory-policy (INFO is not allowed); make sure it runs with AOF and noeviction")]
    private static partial void LogUnchecked(ILogger logger);
}
