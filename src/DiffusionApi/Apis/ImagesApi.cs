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

    /// <summary>The absolute URL of a stored image, as the client reached this service.</summary>
    public static string UrlFor(HttpRequest request, string imageId) =>
        $"{request.Scheme}://{request.Host}{request.PathBase}/v1/images/{imageId}";
}
