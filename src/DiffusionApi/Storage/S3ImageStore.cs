using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using DiffusionApi.Options;
using DiffusionEngine.Imaging;

namespace DiffusionApi.Storage;

/// <summary>
/// Images as objects in an S3 bucket, shared by every replica. An image id is 32 hex digits like any other: its first
/// 16 are the job's (from the job id), so the object lies under its job's prefix, <c>{Prefix}{job16}/{id}</c>, and the
/// id alone finds it. A put is one PutObject (S3 never shows half an object). GET /v1/images/{id} streams the object
/// through the service; with <see cref="S3StorageOptions.PresignMinutes"/> the API hands out presigned URLs instead.
/// Retention is the service's sweep (<see cref="RetentionService"/>, under a lock so one replica sweeps at a time);
/// bucket lifecycle rules are the alternative, in whole days only (docs/scaling.md).
/// Concurrency: the client is thread-safe; so is this.
/// </summary>
public sealed partial class S3ImageStore(IAmazonS3 s3, S3StorageOptions options, ILogger<S3ImageStore> logger) : IImageStore
{
    private static readonly string[] KnownTypes = Array.ConvertAll(Enum.GetValues<ImageFormat>(), format => format.ContentType());

    public async Task<string> PutAsync(string jobId, ReadOnlyMemory<byte> content, string contentType, string? owner = null, CancellationToken cancellationToken = default)
    {
        var type = KnownTypes.FirstOrDefault(t => string.Equals(t, contentType, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"content type must be one of {string.Join(", ", KnownTypes)} but was '{contentType}'", nameof(contentType));
        var id = NewId(jobId);
        using var body = new MemoryStream(content.ToArray(), writable: false);
        var request = new PutObjectRequest
        {
            BucketName = options.Bucket,
            Key = KeyOf(id),
            InputStream = body,
            ContentType = type,
            AutoCloseStream = false,
            Metadata = { ["job-id"] = jobId },
        };
        if (owner is not null) request.Metadata[OwnerMetadata] = owner;
        await s3.PutObjectAsync(request, cancellationToken);
        return id;
    }

    private const string OwnerMetadata = "owner";

    public async Task<StoredImage?> OpenAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!ImageIds.IsValid(id)) return null;
        try
        {
            var response = await s3.GetObjectAsync(options.Bucket, KeyOf(id), cancellationToken);
            var owner = response.Metadata[OwnerMetadata] is { Length: > 0 } tag ? tag : null;
            return new StoredImage(id, response.Headers.ContentType, response.ResponseStream,
                response.LastModified is { } modified ? new DateTimeOffset(modified.ToUniversalTime(), TimeSpan.Zero) : DateTimeOffset.UtcNow, owner);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async ValueTask<Uri?> GetDirectUrlAsync(string id, CancellationToken cancellationToken = default)
    {
        if (options.PresignMinutes <= 0 || !await ExistsAsync(id, cancellationToken)) return null;
        var url = await s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = options.Bucket,
            Key = KeyOf(id),
            Verb = HttpVerb.GET,
            Expires = DateTime.UtcNow.AddMinutes(options.PresignMinutes),
            Protocol = options.ServiceUrl.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? Protocol.HTTP : Protocol.HTTPS,
        });
        return new Uri(url);
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!await ExistsAsync(id, cancellationToken)) return false;
        await s3.DeleteObjectAsync(options.Bucket, KeyOf(id), cancellationToken);
        return true;
    }

    public async Task<int> RemoveOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        var removed = 0;
        var request = new ListObjectsV2Request { BucketName = options.Bucket, Prefix = options.Prefix };
        do
        {
            var page = await s3.ListObjectsV2Async(request, cancellationToken);
            var old = (page.S3Objects ?? []).Where(o => o.LastModified is { } modified && modified.ToUniversalTime() < cutoff.UtcDateTime).ToList();
            if (old.Count > 0)
            {
                var deleted = await s3.DeleteObjectsAsync(new DeleteObjectsRequest
                {
                    BucketName = options.Bucket,
                    Objects = old.ConvertAll(o => new KeyVersion { Key = o.Key }),
                }, cancellationToken);
                removed += deleted.DeletedObjects?.Count ?? 0;
            }
            request.ContinuationToken = page.NextContinuationToken;
            if (page.IsTruncated != true) break;
        }
        while (true);
        if (removed > 0) LogImagesRemoved(logger, removed, cutoff);
        return removed;
    }

    /// <summary>Creates the bucket when it is missing and <see cref="S3StorageOptions.CreateBucket"/> allows it; otherwise a missing bucket throws.</summary>
    public async Task EnsureBucketAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await s3.GetBucketLocationAsync(options.Bucket, cancellationToken);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound && options.CreateBucket)
        {
            await s3.PutBucketAsync(options.Bucket, cancellationToken);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            throw new SettingException("Diffusion:Storage:S3:Bucket",
                $"the S3 bucket '{options.Bucket}' (Diffusion:Storage:S3:Bucket) does not exist; create it or set Diffusion:Storage:S3:CreateBucket=true", ex);
        }
    }

    /// <summary>The first 16 hex digits of the job's id, then 16 random ones: unique, and the job's prefix is in the id.</summary>
    private static string NewId(string jobId)
    {
        var hex = jobId.StartsWith("job_", StringComparison.Ordinal) ? jobId[4..] : jobId;
        var jobPart = hex.Length >= 16 && ImageIds.IsValid(hex.PadRight(ImageIds.Length, '0')[..ImageIds.Length]) ? hex[..16] : ImageIds.NewId()[..16];
        return jobPart + ImageIds.NewId()[..16];
    }

    private string KeyOf(string id) => $"{options.Prefix}{id[..16]}/{id}";

    private async Task<bool> ExistsAsync(string id, CancellationToken cancellationToken)
    {
        if (!ImageIds.IsValid(id)) return false;
        try
        {
            await s3.GetObjectMetadataAsync(options.Bucket, KeyOf(id), cancellationToken);
            return true;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Removed {Count} images stored in S3 before {Cutoff}")]
    private static partial void LogImagesRemoved(ILogger logger, int count, DateTimeOffset cutoff);
}
