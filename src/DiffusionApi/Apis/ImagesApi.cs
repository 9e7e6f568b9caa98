using System.Globalization;
using DiffusionApi.Options;
using DiffusionApi.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace DiffusionApi.Apis;

/// <summary>
/// GET /v1/images/{id}: a stored image by its server-generated id; nothing else reaches the store. A stored image's
/// bytes never change, so its id is a strong ETag (If-None-Match answers 304) and caches may keep it, privately, until
/// the retention sweep removes it.
/// </summary>
public static class ImagesApi
{
    public static IEndpointRouteBuilder MapImagesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/images/{id}", GetImage)
            .WithTags("Images")
            .WithName("GetImage")
            .WithSummary("Download a stored image")
            .WithDescription("The id is the one in a url returned by /v1/images/generations (response_format=url) or an async job: 32 lowercase hex digits. " +
                "The answer carries a strong ETag and 'Cache-Control: private, max-age=<seconds until it expires>, immutable'; If-None-Match with that ETag answers 304.")
            .Produces(StatusCodes.Status200OK, contentType: "image/png", additionalContentTypes: ["image/jpeg", "image/webp"])
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> GetImage(
        string id, HttpContext context, IImageStore store, IOptions<StorageOptions> storage, TimeProvider time, CancellationToken cancellationToken)
    {
        var image = ImageIds.IsValid(id) ? await store.OpenAsync(id, cancellationToken) : null;
        if (image is null) return ProblemResults.NotFound("no image has this id (it may have expired)");
        var expires = image.CreatedAt + TimeSpan.FromHours(storage.Value.RetentionHours);
        var maxAge = Math.Max(0L, (long)(expires - time.GetUtcNow()).TotalSeconds);
        context.Response.Headers.CacheControl = $"private, max-age={maxAge.ToString(CultureInfo.InvariantCulture)}, immutable";
        // The result answers If-None-Match / If-Modified-Since itself (304) and disposes the stream either way.
        return TypedResults.Stream(image.Content, image.ContentType, lastModified: image.CreatedAt, entityTag: new EntityTagHeaderValue($"\"{image.Id}\""));
    }

    /// <summary>The absolute URL of a stored image, as the client reached this service.</summary>
    public static string UrlFor(HttpRequest request, string imageId) =>
        $"{request.Scheme}://{request.Host}{request.PathBase}/v1/images/{imageId}";
}
