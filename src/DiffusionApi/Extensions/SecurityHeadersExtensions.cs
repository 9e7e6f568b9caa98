using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace DiffusionApi.Extensions;

/// <summary>
/// Headers on every answer, errors and 404s included: <c>X-Content-Type-Options: nosniff</c>, so a browser never
/// treats an image or a problem as something else, and no <c>Server</c> banner telling a scanner what to aim at.
/// </summary>
public static class SecurityHeadersExtensions
{
    public static WebApplicationBuilder AddServiceSecurityHeaders(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.AddServerHeader = false);
        return builder;
    }

    /// <summary>Registers the headers first thing, when the response starts, so that handlers clearing the response keep them.</summary>
    public static WebApplication UseServiceSecurityHeaders(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            context.Response.OnStarting(static state =>
            {
                ((HttpResponse)state).Headers.XContentTypeOptions = "nosniff";
                return Task.CompletedTask;
            }, context.Response);
            return next(context);
        });
        return app;
    }
}
