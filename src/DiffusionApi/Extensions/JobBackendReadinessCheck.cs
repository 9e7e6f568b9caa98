using DiffusionApi.Options;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace DiffusionApi.Extensions;

/// <summary>
/// Readiness of the shared job backend: with Redis, a PING must answer within two seconds, so a replica that cannot
/// reach Redis is taken out of the Service until it can (the client reconnects by itself). Always healthy in memory.
/// </summary>
public sealed class JobBackendReadinessCheck(IOptions<ScaleoutOptions> scaleout, IServiceProvider services) : IHealthCheck
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!scaleout.Value.IsRedis) return HealthCheckResult.Healthy("in-memory job backend");
        var redis = services.GetRequiredService<IConnectionMultiplexer>();
        try
        {
            var latency = await redis.GetDatabase().PingAsync().WaitAsync(Patience, cancellationToken);
            return HealthCheckResult.Healthy($"Redis answered in {latency.TotalMilliseconds:0.0} ms");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"Redis is unreachable: {ex.Message}");
        }
    }
}
