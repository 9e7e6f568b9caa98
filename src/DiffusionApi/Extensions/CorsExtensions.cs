using DiffusionApi.Options;
using Microsoft.Extensions.Options;
using AspNetCorsOptions = Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions;

namespace DiffusionApi.Extensions;

/// <summary>
/// CORS for web frontends on other origins (Diffusion:Cors:AllowedOrigins; empty = off, and nothing is added to the
/// pipeline). Preflights are answered before API-key checks (browsers send them without credentials); the headers a
/// frontend needs to read (seed, job id, Location, Retry-After) are exposed, and Authorization may be sent. No cookies
/// are involved, so credentials mode stays off.
/// </summary>
public static class CorsExtensions
{
    private static readonly string[] Methods = ["GET", "POST", "DELETE"];
    private static readonly string[] RequestHeaders = ["Authorization", "X-Api-Key", "Content-Type", "Last-Event-ID"];
    private static readonly string[] ExposedHeaders = ["X-Seed", "X-Job-Id", "Location", "Retry-After"];

    public static WebApplicationBuilder AddServiceCors(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<CorsOptions>().BindConfiguration(CorsOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<CorsOptions>, CorsOptionsValidator>();
        builder.Services.AddCors();
        builder.Services.AddOptions<AspNetCorsOptions>().Configure<IOptions<CorsOptions>>((cors, ours) => cors.AddDefaultPolicy(policy =>
        {
            if (ours.Value.AllowsAnyOrigin) policy.AllowAnyOrigin();
            else policy.WithOrigins(ours.Value.AllowedOrigins);
            policy.WithMethods(Methods).WithHeaders(RequestHeaders).WithExposedHeaders(ExposedHeaders)
                .SetPreflightMaxAge(TimeSpan.FromMinutes(10));
        }));
        return builder;
    }

    /// <summary>
    /// Runs the CORS middleware when origins are configured; call it before <c>UseApiKeys</c>. The setting is read per
    /// request (a cached singleton), not while the pipeline is built, so a bad value fails in start-up validation with
    /// every other setting.
    /// </summary>
    public static WebApplication UseServiceCors(this WebApplication app)
    {
        app.UseWhen(
            context => context.RequestServices.GetRequiredService<IOptions<CorsOptions>>().Value.AllowedOrigins.Length > 0,
            branch => branch.UseCors());
        return app;
    }
}
