namespace DiffusionEngine.Imaging;

/// <summary>Output encodings of a generated image (see <see cref="ImageFormats"/> for names, MIME types, extensions).</summary>
public enum ImageFormat
{
    /// <summary>Lossless PNG; carries the generation parameters in a "parameters" text chunk.</summary>
    Png,

    /// <summary>Lossy JPEG (4:2:0).</summary>
    Jpeg,

    /// <summary>Lossy WebP.</summary>
    Webp,
}
