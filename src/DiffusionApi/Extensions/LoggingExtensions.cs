using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace DiffusionApi.Extensions;

/// <summary>
/// Serilog as the logging provider: console as text or compact JSON (Diffusion:Logging:Format = text|json),
/// properties from log scopes (JobId, TraceId) on every line, one summary line per HTTP request.
/// Sinks registered in DI (ILogEventSink) are added too.
/// </summary>
public static class LoggingExtensions
{
    private const string TextTemplate = "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {Message:lj} {Properties:j}{NewLine}{Exception}";

    public static WebApplicationBuilder AddServiceLogging(this WebApplicationBuilder builder)
    {
        var format = builder.Configuration["Diffusion:Logging:Format"] ?? "text";
        if (format is not ("text" or "json"))
            throw new InvalidOperationException($"Diffusion:Logging:Format must be text or json but was '{format}'");

        builder.Services.AddSerilog((services, logger) =>
        {
            // Defaults first; a "Serilog" configuration section (e.g. Serilog__MinimumLevel__Default=Warning) overrides them.
            logger.MinimumLevel.Information()
                .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
                // An unready probe while the model loads or drains is expected, not an error; the probe's answer says why.
                .MinimumLevel.Override("Microsoft.Extensions.Diagnostics.HealthChecks", LogEventLevel.Fatal)
                .ReadFrom.Configuration(builder.Configuration)
                .ReadFrom.Services(services)
                .Enrich.FromLogContext();
            if (format == "json") logger.WriteTo.Console(new CompactJsonFormatter());
            else logger.WriteTo.Console(outputTemplate: TextTemplate, formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        }, preserveStaticLogger: true);
        return builder;
    }

    public static WebApplication UseServiceRequestLogging(this WebApplication app)
    {
        app.UseSerilogRequestLogging(options =>
        {
            // The service's own logger, not the static Log.Logger (left alone so several hosts can share a process).
            options.Logger = app.Services.GetRequiredService<Serilog.ILogger>();
            options.EnrichDiagnosticContext = (diagnostics, http) =>
            {
                if (http.Response.Headers.TryGetValue("X-Job-Id", out var jobId)) diagnostics.Set("JobId", jobId.ToString());
                diagnostics.Set("TraceId", System.Diagnostics.Activity.Current?.TraceId.ToString() ?? http.TraceIdentifier);
            };
            // Probes and scrapes would drown the log.
            options.GetLevel = (http, _, error) =>
                error is not null ? LogEventLevel.Error
                : http.Request.Path.StartsWithSegments("/health") || http.Request.Path.StartsWithSegments("/metrics") ? LogEventLevel.Verbose
                // 503 is back-pressure working as designed (counted by diffusion.requests.rejected), not a fault.
                : http.Response.StatusCode >= 500 && http.Response.StatusCode != 503 ? LogEventLevel.Warning
                : LogEventLevel.Information;
        });
        return app;
    }
}
