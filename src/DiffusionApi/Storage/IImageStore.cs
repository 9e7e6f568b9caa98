namespace DiffusionApi.Storage;

/// <summary>
/// Keeps generated images under server-generated ids (<see cref="ImageIds"/>). Every image a worker generates goes
/// through it; a finished job keeps only the ids. Ids come only from <see cref="PutAsync"/>; any other string given to
/// <see cref="OpenAsync"/>, <see cref="GetDirectUrlAsync"/> or <see cref="DeleteAsync"/> (a path, an encoded path, an
/// absolute path) is simply not found.
/// Concurrency: every member may be called concurrently from any thread (and, for a shared store, any replica). A put
/// is atomic: a reader never sees half an image.
/// </summary>
public interface IImageStore
{
    /// <summary>
    /// Stores <paramref name="content"/> of <paramref name="contentType"/> and returns its new id. <paramref name="jobId"/>
    /// names the job the image belongs to, for the store's layout or metadata; the returned id alone opens it.
    /// <paramref name="owner"/> is the owner hash of the API key it belongs to (<see cref="Extensions.JobOwners"/>), kept
    /// with it and given back by <see cref="OpenAsync"/>; null when nobody owns it (no keys).
    /// </summary>
    /// <exception cref="ArgumentException">The content type is not one of the image types the store keeps.</exception>
    Task<string> PutAsync(string jobId, ReadOnlyMemory<byte> content, string contentType, string? owner = null, CancellationToken cancellationToken = default);

    /// <summary>The stored image, or null when <paramref name="id"/> is not a known id.</summary>
    Task<StoredImage?> OpenAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// A URL a client may fetch the image from directly (e.g. a presigned object-store URL), or null when the image is
    /// served by this service (GET /v1/images/{id}) — always null for a store on local disk, and for an unknown id.
    /// </summary>
    ValueTask<Uri?> GetDirectUrlAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Removes the image; true when it was there. Deleting an unknown id does nothing.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Removes images stored before <paramref name="cutoff"/>; returns how many were removed.</summary>
    Task<int> RemoveOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default);
}

/// <summary>An image read back from the store. The caller disposes <see cref="Content"/>.</summary>
public sealed record StoredImage(string Id, string ContentType, Stream Content, DateTimeOffset CreatedAt, string? Owner = null);
