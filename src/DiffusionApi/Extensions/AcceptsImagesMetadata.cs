namespace DiffusionApi.Extensions;

/// <summary>
/// Marks an endpoint whose body may carry images (an init image and a mask): its body limit is
/// <see cref="Options.LimitsOptions.MaxBodyBytesWithImages"/> instead of MaxRequestBodyBytes (<see cref="RequestBodyLimitMiddleware"/>).
/// </summary>
public sealed class AcceptsImagesMetadata
{
    public static AcceptsImagesMetadata Instance { get; } = new();

    private AcceptsImagesMetadata()
    {
    }
}

/// <summary>Endpoint conventions for <see cref="AcceptsImagesMetadata"/>.</summary>
public static class AcceptsImagesExtensions
{
    /// <summary>The endpoint takes images in its body: the larger body limit applies.</summary>
    public static RouteHandlerBuilder AcceptsImages(this RouteHandlerBuilder builder) => builder.WithMetadata(AcceptsImagesMetadata.Instance);
}
