using System.Globalization;
using System.Threading.RateLimiting;
using StackExchange.Redis;

namespace DiffusionApi.Jobs.Redis;

/// <summary>
/// One caller's fixed one-minute window counted in Redis, so every replica sharing the key prefix counts the same
/// requests (<c>Diffusion:RateLimit:PermitsPerMinute</c> is per caller across the deployment, not per pod). Windows
/// are aligned on the Redis server's clock (one script: TIME, INCR, PEXPIRE), so replicas with skewed clocks agree.
/// Holds no state of its own: a partition may drop and recreate it at any time. An unreachable Redis throws the
/// client's exception, which the endpoints' handler answers with 503 + Retry-After (as the generation endpoints would).
/// </summary>
public sealed class RedisWindowRateLimiter(IConnectionMultiplexer redis, string prefix, string caller, int permitsPerMinute) : RateLimiter
{
    /// <summary>ARGV: 1 counter key prefix, 2 window ms. Returns {count in this window, ms until it ends}.</summary>
    private const string Count = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local window = tonumber(ARGV[2])
        local index = math.floor(now / window)
        local k = ARGV[1] .. index
        local n = redis.call('INCR', k)
        if n == 1 then redis.call('PEXPIRE', k, window + 5000) end
        return {n, (index + 1) * window - now}
        """;

    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private static readonly string WindowMs = ((long)Window.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);

    private readonly string _keyPrefix = $"{prefix}:rate:{caller}:";

    /// <summary>
    /// Stateless, so always idle: reported as idle forever so that the partitioned limiter drops it at its next sweep
    /// (it drops limiters idle over 10 s) instead of keeping one per caller for the life of the process.
    /// </summary>
    public override TimeSpan? IdleDuration => TimeSpan.MaxValue;

    public override RateLimiterStatistics? GetStatistics() => null;

    /// <summary>
    /// The synchronous path cannot ask Redis: it declines, and the middleware then asks <see cref="AcquireAsyncCore"/>.
    /// </summary>
    protected override RateLimitLease AttemptAcquireCore(int permitCount) => WindowLease.Declined;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        var reply = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(Count, keys: null, values: [_keyPrefix, WindowMs]))!;
        var count = (long)reply[0];
        return count <= permitsPerMinute ? WindowLease.Granted : new WindowLease(false, TimeSpan.FromMilliseconds((long)reply[1]));
    }

    private sealed class WindowLease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly WindowLease Granted = new(true, null);
        public static readonly WindowLease Declined = new(false, null);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}
