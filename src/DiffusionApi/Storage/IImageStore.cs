namespace DiffusionApi.Storage;

/// <summary>
/// Keeps generated images under server-generated ids. Ids come only from <see cref="SaveAsync"/>; any other string
/// given to <see cref="OpenAsync"/> (a path, an encoded path, an absolute path) is simply not found.
/// Implementations are safe for concurrent use.
/// </summary>
public interface IImageStore
{
    /// <summary>Stores <paramref name="content"/> atomically and returns its new id.</summary>
    /// <exception cref="ArgumentException">The content type is not one of the image types the store keeps.</exception>
    Task<string> SaveAsync(ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default);

    /// <summary>The stored image, or null when <paramref name="id"/> is not a known id.</summary>
    Task<StoredImage?> OpenAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Removes images stored before <paramref name="cutoff"/>; returns how many were removed.</summary>
    int RemoveOlderThan(DateTimeOffset cutoff);
}

/// <summary>An image read back from the store. The caller disposes <see cref="Content"/>.</summary>
public sealed record StoredImage(string Id, string ContentType, Stream Content, DateTimeOffset CreatedAt);
