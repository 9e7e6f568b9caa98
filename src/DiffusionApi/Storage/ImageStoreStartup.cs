using DiffusionApi.Options;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Storage;

/// <summary>
/// Checks the image store before the service takes requests: an S3 bucket must exist (or be created when allowed), an
/// image folder must be writable. Either failure stops the start naming the setting. An image folder with the Redis
/// backend is allowed (one replica, or a folder every replica mounts) but warned about: a job's images are written by
/// the replica that ran it and read back by the replica that was asked, so with a folder per replica they go missing.
/// </summary>
public sealed partial class ImageStoreStartup(IImageStore images, IOptions<ScaleoutOptions> scaleout, ILogger<ImageStoreStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        switch (images)
        {
            case S3ImageStore s3:
                return s3.EnsureBucketAsync(cancellationToken);
            case FileSystemImageStore folder:
                folder.EnsureWritable();
                if (scaleout.Value.IsRedis) LogFolderPerReplica(logger, folder.RootDirectory);
                break;
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Diffusion:Scaleout:Backend is Redis but images are kept in the folder {Folder} " +
        "(Diffusion:Storage:Provider=FileSystem): every replica sharing this Redis must mount that same folder, or use " +
        "Diffusion:Storage:Provider=S3. Otherwise a job run by one replica has no images on the others: their image URLs " +
        "answer 404 and a request waiting there fails")]
    private static partial void LogFolderPerReplica(ILogger logger, string folder);
}
