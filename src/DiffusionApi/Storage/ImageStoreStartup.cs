namespace DiffusionApi.Storage;

/// <summary>Checks the image store before the service takes requests: an S3 bucket must exist (or be created when allowed).</summary>
public sealed class ImageStoreStartup(IImageStore images) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        images is S3ImageStore s3 ? s3.EnsureBucketAsync(cancellationToken) : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
