using System.Globalization;
using DiffusionApi.Jobs;
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
        // Another API key's image answers as if it did not exist, unless image URLs are public (Storage:PublicImageUrls).
        if (image is not null && !storage.Value.PublicImageUrls && !Extensions.JobOwners.MaySee(context, image.Owner))
        {
            await image.Content.DisposeAsync();
            image = null;
        }
        if (image is null) return ProblemResults.NotFound("no image has this id (it may have expired)");
        var expires = image.CreatedAt + TimeSpan.FromHours(storage.Value.RetentionHours);
        var maxAge = Math.Max(0L, (long)(expires - time.GetUtcNow()).TotalSeconds);
        context.Response.Headers.CacheControl = $"private, max-age={maxAge.ToString(CultureInfo.InvariantCulture)}, immutable";
        // The result answers If-None-Match / If-Modified-Since itself (304) and disposes the stream either way.
        return TypedResults.Stream(image.Content, image.ContentType, lastModified: image.CreatedAt, entityTag: new EntityTagHeaderValue($"\"{image.Id}\""));
    }

    /// <summary>
    /// The URL a client fetches a stored image from: the store's direct URL when it offers one (an object store's
    /// presigned URL), else this service's GET /v1/images/{id}, absolute, as the client reached the service.
    /// </summary>
    public static async ValueTask<string> UrlForAsync(HttpRequest request, IImageStore store, string imageId, CancellationToken cancellationToken) =>
        (await store.GetDirectUrlAsync(imageId, cancellationToken))?.AbsoluteUri
        ?? $"{request.Scheme}://{request.Host}{request.PathBase}/v1/images/{imageId}";

    /// <summary><see cref="UrlForAsync"/> for each image of a finished job, in order.</summary>
    public static async Task<IReadOnlyList<string>> UrlsForAsync(HttpRequest request, IImageStore store, IReadOnlyList<JobImageRef> images, CancellationToken cancellationToken)
    {
        var urls = new string[images.Count];
        for (var i = 0; i < urls.Length; i++) urls[i] = await UrlForAsync(request, store, images[i].ImageId, cancellationToken);
        return urls;
    }
}
