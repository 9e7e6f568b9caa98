using DiffusionApi.Model;
using DiffusionApi.Options;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace DiffusionApi.Apis;

/// <summary>
/// The playground page: <c>GET /</c> answers its HTML and <c>GET /playground/config</c> what the page must know before
/// it may call /v1 (answered without an API key); both answer 404 while Diffusion:Playground:Enabled is off. Its
/// scripts and styles are served by <see cref="Extensions.PlaygroundExtensions"/>. Neither endpoint is part of the API
/// description.
/// </summary>
public static class PlaygroundApi
{
    public static IEndpointRouteBuilder MapPlaygroundApi(this IEndpointRouteBuilder app, IFileProvider files)
    {
        var page = files.GetFileInfo("index.html");
        if (!page.Exists) throw new InvalidOperationException("the playground's index.html is not embedded in the assembly");
        var group = app.MapGroup("").WithTags("Playground").ExcludeFromDescription()
            .AddEndpointFilter(async (context, next) =>
                Extensions.PlaygroundExtensions.IsEnabled(context.HttpContext) ? await next(context) : TypedResults.NotFound());
        group.MapGet("/", (HttpContext context) => Page(context, page)).WithName("Playground");
        group.MapGet("/playground/config", GetConfig).WithName("PlaygroundConfig");
        return app;
    }

    public static FileStreamHttpResult Page(HttpContext context, IFileInfo page)
    {
        Extensions.PlaygroundExtensions.AddSecurityHeaders(context.Response);
        var lastModified = page.LastModified;
        var tag = new EntityTagHeaderValue($"\"{lastModified.UtcTicks:x}-{page.Length:x}\"");
        return TypedResults.Stream(page.CreateReadStream(), "text/html; charset=utf-8", lastModified: lastModified, entityTag: tag);
    }

    public static Ok<PlaygroundConfig> GetConfig(HttpContext context, IOptions<DiffusionOptions> diffusion, IOptions<LimitsOptions> limits)
    {
        context.Response.Headers.CacheControl = "no-store";
        var l = limits.Value;
        return TypedResults.Ok(new PlaygroundConfig(
            diffusion.Value.RequiresApiKey,
            new PlaygroundLimits(l.MinWidth, l.MaxWidth, l.MinHeight, l.MaxHeight, l.MaxPixels, l.MinSteps, l.MaxSteps, l.MaxImages, l.MinGuidance, l.MaxGuidance)));
    }
}
