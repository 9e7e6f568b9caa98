namespace DiffusionApi.Storage;

/// <summary>
/// Checks the image store before the service takes requests: an S3 bucket must exist (or be created when allowed), an
/// image folder must be writable. Either failure stops the start naming the setting.
/// </summary>
public sealed class ImageStoreStartup(IImageStore images) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        switch (images)
        {
            case S3ImageStore s3:
                return s3.EnsureBucketAsync(cancellationToken);
            case FileSystemImageStore folder:
                folder.EnsureWritable();
                break;
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
