using DiffusionApi.Engine;
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
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) }).WithTags("Health");
        return app;
    }

    private sealed class ModelReadinessCheck(ModelRegistry host) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(host.IsReady ? HealthCheckResult.Healthy(host.Describe()) : HealthCheckResult.Unhealthy(host.Describe()));
    }
}
