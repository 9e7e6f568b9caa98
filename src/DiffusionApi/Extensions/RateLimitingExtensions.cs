using DiffusionApi.Telemetry;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using DiffusionApi.Jobs.Redis;
using DiffusionApi.Options;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace DiffusionApi.Extensions;

/// <summary>
/// 429 + Retry-After + problem+json when a caller exceeds Diffusion:RateLimit:PermitsPerMinute generation requests
/// (fixed one-minute windows). Callers are told apart by API key (hashed, never kept in clear) or, without one, by address.
/// In memory per process by default; with <c>Diffusion:Scaleout:Backend=Redis</c> the windows live in Redis
/// (<see cref="RedisWindowRateLimiter"/>), so the limit holds across all replicas.
/// </summary>
public static class RateLimitingExtensions
{
    public const string GenerationPolicy = "generation";

    public static WebApplicationBuilder AddServiceRateLimiting(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.AddPolicy(GenerationPolicy, http =>
            {
                var services = http.RequestServices;
                var permits = services.GetRequiredService<IOptions<RateLimitOptions>>().Value.PermitsPerMinute;
                if (permits == 0) return RateLimitPartition.GetNoLimiter("unlimited");
                // With the Redis backend every replica counts in one shared window per caller.
                if (services.GetRequiredService<IOptions<ScaleoutOptions>>().Value.IsRedis)
                {
                    var caller = CallerOf(http);
                    return RateLimitPartition.Get(caller, key => new RedisWindowRateLimiter(
                        services.GetRequiredService<IConnectionMultiplexer>(), services.GetRequiredService<RedisJobSettings>().Prefix, key, permits));
                }
                return RateLimitPartition.GetFixedWindowLimiter(CallerOf(http), _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = permits,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                });
            });
            options.OnRejected = async (context, cancellationToken) =>
            {
                var http = context.HttpContext;
                http.RequestServices.GetRequiredService<DiffusionMetrics>().RateLimited();
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                    http.Response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many requests",
                        Detail = "this caller's generation requests per minute are used up (Diffusion:RateLimit:PermitsPerMinute)",
                    },
                });
            };
        });
        return builder;
    }

    /// <summary>Who is calling: the API key's hash, or without a key the client's address (also whose A1111 jobs /sdapi/v1/interrupt stops).</summary>
    public static string CallerOf(HttpContext http)
    {
        var authorization = http.Request.Headers.Authorization.ToString();
        var key = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim() : http.Request.Headers["X-Api-Key"].ToString();
        return key.Length > 0
            ? "key:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)))
            : "address:" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
    }
}
