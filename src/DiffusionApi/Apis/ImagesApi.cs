using DiffusionApi.Jobs;
using DiffusionApi.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DiffusionApi.Apis;

/// <summary>GET /v1/images/{id}: a stored image by its server-generated id; nothing else reaches the store.</summary>
public static class ImagesApi
{
    public static IEndpointRouteBuilder MapImagesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/images/{id}", GetImage)
            .WithTags("Images")
            .WithName("GetImage")
            .WithSummary("Download a stored image")
            .WithDescription("The id is the one in a url returned by /v1/images/generations (response_format=url) or an async job: 32 lowercase hex digits.")
            .Produces(StatusCodes.Status200OK, contentType: "image/png", additionalContentTypes: ["image/jpeg", "image/webp"])
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> GetImage(string id, IImageStore store, CancellationToken cancellationToken)
    {
        var image = ImageIds.IsValid(id) ? await store.OpenAsync(id, cancellationToken) : null;
        if (image is null) return ProblemResults.NotFound("no image has this id (it may have expired)");
        return TypedResults.Stream(image.Content, image.ContentType, lastModified: image.CreatedAt);
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
