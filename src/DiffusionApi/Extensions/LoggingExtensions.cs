using Microsoft.AspNetCore.WebUtilities;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace DiffusionApi.Extensions;

/// <summary>
/// Serilog as the logging provider: console as text or compact JSON (Diffusion:Logging:Format = text|json),
/// properties from log scopes (JobId, TraceId) on every event, one summary line per HTTP request that names its status
/// and, for an error, the reason (a 4xx is a warning, not an error). Text lines are the message alone, with control
/// characters in every value escaped so client text (user, path, field names) cannot forge lines or colours; the
/// structured properties go to the JSON format. Sinks registered in DI (ILogEventSink) are added too.
/// </summary>
public static class LoggingExtensions
{
    private const string TextTemplate = "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {Message:lj}{NewLine}{Exception}";

    /// <summary>The request summary; <c>Reason</c> is the status's phrase, or the problem's title and detail.</summary>
    private const string RequestTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} ({Reason}) in {Elapsed:0.0000} ms";

    private const string ReasonItem = "DiffusionService.ProblemReason";

    /// <summary>Remembers why a request failed, for its summary line (called for every problem+json answer).</summary>
    public static void RecordProblemReason(HttpContext context, Microsoft.AspNetCore.Mvc.ProblemDetails problem)
    {
        var reason = problem.Title ?? ReasonPhrases.GetReasonPhrase(problem.Status ?? context.Response.StatusCode);
        if (problem is HttpValidationProblemDetails { Errors.Count: > 0 } validation)
            reason += ": " + string.Join("; ", validation.Errors.SelectMany(e => e.Value));
        else if (!string.IsNullOrEmpty(problem.Detail))
            reason += ": " + problem.Detail;
        context.Items[ReasonItem] = reason.Length <= 500 ? reason : reason[..500] + "…";
    }

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
            // A sub-logger gets its own copy of each event, so escaping here leaves other sinks the raw values.
            else logger.WriteTo.Logger(text => text.Enrich.With<ControlCharacterEscaper>()
                .WriteTo.Console(outputTemplate: TextTemplate, formatProvider: System.Globalization.CultureInfo.InvariantCulture));
        }, preserveStaticLogger: true);
        return builder;
    }

    public static WebApplication UseServiceRequestLogging(this WebApplication app)
    {
        app.UseSerilogRequestLogging(options =>
        {
            // The service's own logger, not the static Log.Logger (left alone so several hosts can share a process).
            options.Logger = app.Services.GetRequiredService<Serilog.ILogger>();
            options.MessageTemplate = RequestTemplate;
            options.EnrichDiagnosticContext = (diagnostics, http) =>
            {
                diagnostics.Set("Reason", http.Items[ReasonItem] as string ?? ReasonPhrases.GetReasonPhrase(http.Response.StatusCode));
                if (http.Response.Headers.TryGetValue("X-Job-Id", out var jobId)) diagnostics.Set("JobId", jobId.ToString());
                diagnostics.Set("TraceId", System.Diagnostics.Activity.Current?.TraceId.ToString() ?? http.TraceIdentifier);
            };
            // Probes and scrapes would drown the log. This runs outside the exception handler, so it sees the status the
            // client got: a bad request is a 4xx warning with its reason, never an error with a stack trace.
            options.GetLevel = (http, _, error) =>
                error is not null ? LogEventLevel.Error
                : http.Request.Path.StartsWithSegments("/health") || http.Request.Path.StartsWithSegments("/metrics") ? LogEventLevel.Verbose
                // 503 is back-pressure working as designed (counted by diffusion.requests.rejected), not a fault.
                : http.Response.StatusCode == 503 ? LogEventLevel.Information
                : http.Response.StatusCode >= 400 ? LogEventLevel.Warning
                : LogEventLevel.Information;
        });
        return app;
    }

    /// <summary>Replaces every string value of an event with its <see cref="ControlCharacters.Escape"/>d form.</summary>
    private sealed class ControlCharacterEscaper : ILogEventEnricher
    {
        public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
        {
            List<LogEventProperty>? escaped = null;
            foreach (var (name, value) in logEvent.Properties)
            {
                var safe = Escape(value);
                if (!ReferenceEquals(safe, value)) (escaped ??= []).Add(new LogEventProperty(name, safe));
            }
            if (escaped is null) return;
            foreach (var property in escaped) logEvent.AddOrUpdateProperty(property);
        }

        // The same instance when nothing needs escaping, so most events cost no allocation.
        private static LogEventPropertyValue Escape(LogEventPropertyValue value)
        {
            switch (value)
            {
                case ScalarValue { Value: string text } when ControlCharacters.Contains(text):
                    return new ScalarValue(ControlCharacters.Escape(text));
                case SequenceValue sequence:
                    var items = sequence.Elements.Select(Escape).ToArray();
                    return items.SequenceEqual(sequence.Elements) ? value : new SequenceValue(items);
                case StructureValue structure:
                    var properties = structure.Properties.Select(p => new LogEventProperty(p.Name, Escape(p.Value))).ToArray();
                    return properties.Select(p => p.Value).SequenceEqual(structure.Properties.Select(p => p.Value)) ? value : new StructureValue(properties, structure.TypeTag);
                case DictionaryValue dictionary:
                    var entries = dictionary.Elements.Select(e => new KeyValuePair<ScalarValue, LogEventPropertyValue>(e.Key, Escape(e.Value))).ToArray();
                    return entries.Select(e => e.Value).SequenceEqual(dictionary.Elements.Select(e => e.Value)) ? value : new DictionaryValue(entries);
                default:
                    return value;
            }
        }
    }
}
