namespace DiffusionEngine.Imaging;

/// <summary>Names, MIME types and file extensions of <see cref="ImageFormat"/> values.</summary>
public static class ImageFormats
{
    /// <summary>The names <see cref="Parse"/> accepts (case-insensitive).</summary>
    public static IReadOnlyList<string> AcceptedNames { get; } = ["png", "jpeg", "jpg", "webp"];

    /// <summary>Parses "png", "jpeg", "jpg" or "webp", ignoring case.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is none of the accepted names (the message lists them).</exception>
    public static ImageFormat Parse(string name) =>
        TryParse(name, out var format)
            ? format
            : throw new ArgumentException(
                $"image format must be one of {string.Join(", ", AcceptedNames)} but was \"{name}\"", nameof(name));

    /// <summary>Parses like <see cref="Parse"/> without throwing.</summary>
    public static bool TryParse(string? name, out ImageFormat format)
    {
        switch (name?.ToLowerInvariant())
        {
            case "png":
                format = ImageFormat.Png;
                return true;
            case "jpeg" or "jpg":
                format = ImageFormat.Jpeg;
                return true;
            case "webp":
                format = ImageFormat.Webp;
                return true;
            default:
                format = default;
                return false;
        }
    }

    /// <summary>The MIME type: image/png, image/jpeg or image/webp.</summary>
    public static string ContentType(this ImageFormat format) => format switch
    {
        ImageFormat.Png => "image/png",
        ImageFormat.Jpeg => "image/jpeg",
        ImageFormat.Webp => "image/webp",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown image format"),
    };

    /// <summary>The file extension with its dot: ".png", ".jpg" or ".webp".</summary>
    public static string Extension(this ImageFormat format) => format switch
    {
        ImageFormat.Png => ".png",
        ImageFormat.Jpeg => ".jpg",
        ImageFormat.Webp => ".webp",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown image format"),
    };
}
