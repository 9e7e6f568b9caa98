using DiffusionApi.Apis;
using DiffusionApi.Options;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Extensions;

/// <summary>
/// The playground (Diffusion:Playground:Enabled): plain HTML, CSS and JavaScript embedded in this assembly from
/// <c>Playground/</c> (no build step, nothing from other hosts, no inline script or style), so it is served the same
/// from <c>dotnet run</c>, a published folder or the container. Every answer carries a Content-Security-Policy that
/// allows only this origin's scripts, styles and API, plus blob: and data: images (fetched and preview images).
/// </summary>
public static class PlaygroundExtensions
{
    /// <summary>The policy sent with every playground file.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'";

    private const string EmbeddedNamespace = "DiffusionApi.Playground";

    public static WebApplicationBuilder AddPlayground(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<PlaygroundOptions>().BindConfiguration(PlaygroundOptions.SectionName).ValidateOnStart();
        return builder;
    }

    /// <summary>
    /// When enabled: the page at <c>/</c>, its files under <c>/playground/</c> and <c>/playground/config</c>; when not,
    /// those paths answer 404. The setting is read per request (a cached singleton), not while the pipeline is built,
    /// so a bad value fails in start-up validation with every other setting.
    /// </summary>
    public static WebApplication UsePlayground(this WebApplication app)
    {
        var files = new EmbeddedFileProvider(typeof(PlaygroundExtensions).Assembly, EmbeddedNamespace);
        app.UseWhen(
            context => context.Request.Path.StartsWithSegments("/playground") && IsEnabled(context),
            branch => branch.UseStaticFiles(new StaticFileOptions
            {
                FileProvider = files,
                RequestPath = "/playground",
                OnPrepareResponse = context => AddSecurityHeaders(context.Context.Response),
            }));
        app.MapPlaygroundApi(files);
        return app;
    }

    public static bool IsEnabled(HttpContext context) =>
        context.RequestServices.GetRequiredService<IOptions<PlaygroundOptions>>().Value.Enabled;

    /// <summary>The CSP, no MIME sniffing, no referrer, and revalidation on every load (the files change with the service).</summary>
    public static void AddSecurityHeaders(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache";
    }
}
