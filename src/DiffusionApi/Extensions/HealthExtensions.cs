using System.Globalization;
using DiffusionApi.Engine;
using DiffusionApi.Options;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DiffusionApi.Extensions;

/// <summary>/health/live: the process answers. /health/ready: the default model (and every Preload one) loaded and warmed up, not draining, and the shared job backend (Redis) reachable.</summary>
public static class HealthExtensions
{
    private const string ReadyTag = "ready";

    public static WebApplicationBuilder AddServiceHealthChecks(this WebApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks()
            .AddCheck<ModelReadinessCheck>("model", tags: [ReadyTag])
            .AddCheck<JobBackendReadinessCheck>("job-backend", tags: [ReadyTag]);
        return builder;
    }

    public static WebApplication MapServiceHealthChecks(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).WithTags("Health");
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag), ResponseWriter = WriteReadinessAsync })
            .WithTags("Health");
        return app;
    }

    /// <summary>
    /// The default body (the status as text), plus Retry-After while draining: a load balancer or client that reads it
    /// knows when to look again (another replica, or this one after a restart), as the 503s for new jobs say too.
    /// </summary>
    private static Task WriteReadinessAsync(HttpContext context, HealthReport report)
    {
        if (report.Status != HealthStatus.Healthy && context.RequestServices.GetRequiredService<ModelRegistry>().IsDraining)
        {
            var seconds = context.RequestServices.GetRequiredService<IOptions<QueueOptions>>().Value.RetryAfterSeconds;
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(report.Status.ToString());
    }

    private sealed class ModelReadinessCheck(ModelRegistry host) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(host.IsReady ? HealthCheckResult.Healthy(host.Describe()) : HealthCheckResult.Unhealthy(host.Describe()));
    }
}
