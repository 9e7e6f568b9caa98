using DiffusionApi.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace DiffusionApi.Extensions;

/// <summary>
/// OpenTelemetry: traces from ASP.NET Core, the service (queue wait, batch, image encoding, storage) and the engine
/// (text encoding, denoising, VAE decode); metrics from Meter "DiffusionService" and ASP.NET Core, scraped at /metrics;
/// OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT or Diffusion:Telemetry:OtlpEndpoint is set.
/// </summary>
public static class TelemetryExtensions
{
    public static WebApplicationBuilder AddServiceTelemetry(this WebApplicationBuilder builder)
    {
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceTelemetry.ServiceName))
            .WithTracing(tracing => tracing
                .AddSource(ServiceTelemetry.ServiceName, ServiceTelemetry.EngineSourceName)
                .AddAspNetCoreInstrumentation(o => o.Filter = http =>
                    !http.Request.Path.StartsWithSegments("/metrics") && !http.Request.Path.StartsWithSegments("/health")))
            .WithMetrics(metrics => metrics
                .AddMeter(ServiceTelemetry.ServiceName)
                .AddAspNetCoreInstrumentation()
                .AddPrometheusExporter());

        var configured = builder.Configuration["Diffusion:Telemetry:OtlpEndpoint"];
        if (!string.IsNullOrWhiteSpace(configured))
            otel.UseOtlpExporter(OpenTelemetry.Exporter.OtlpExportProtocol.Grpc, new Uri(configured));
        else if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            otel.UseOtlpExporter(); // reads OTEL_EXPORTER_OTLP_* itself
        return builder;
    }

    public static WebApplication MapServiceMetrics(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
