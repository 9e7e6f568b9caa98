using DiffusionApi.IntegrationTests.Contracts;
using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionApi.Options;
using DiffusionApi.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace DiffusionApi.IntegrationTests.Storage;

/// <summary>The image store contract on S3 (moto's server, a bucket per test), plus the S3-only parts: layout, presigned URLs, the bucket check.</summary>
public sealed class S3ImageStoreTests : ImageStoreContract
{
    private readonly Lazy<(S3ImageStore Store, S3StorageOptions Options, MotoServer Server)> _store = new(() =>
    {
        var server = MotoServer.Shared.GetAwaiter().GetResult();
        var options = server.NewBucket(presignMinutes: 5);
        var store = new S3ImageStore(server.CreateClient(options), options, NullLogger<S3ImageStore>.Instance);
        store.EnsureBucketAsync().GetAwaiter().GetResult();
        return (store, options, server);
    });

    protected override IImageStore Store => _store.Value.Store;

    [SkippableFact]
    public async Task AnImage_LiesUnderItsJobsPrefix()
    {
        var (store, options, server) = _store.Value;
        var id = await store.PutAsync(JobId, new byte[] { 1 }, "image/png");

        using var s3 = server.CreateClient(options);
        var listed = await s3.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = options.Bucket });
        var key = Assert.Single(listed.S3Objects!).Key;
        Assert.Equal($"images/{JobId[4..20]}/{id}", key);
    }

    [SkippableFact]
    public async Task WithPresignMinutes_TheDirectUrlFetchesTheImage_WithoutCredentials()
    {
        var id = await Store.PutAsync(JobId, new byte[] { 1, 2, 3, 4 }, "image/png");

        var url = await Store.GetDirectUrlAsync(id);

        Assert.NotNull(url);
        using var http = new HttpClient();
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, await http.GetByteArrayAsync(url));
    }

    [SkippableFact]
    public async Task AMissingBucket_StopsTheStartNamingTheSetting_UnlessCreateBucketIsSet()
    {
        var server = await MotoServer.Shared;
        var options = server.NewBucket();
        options.CreateBucket = false;
        var store = new S3ImageStore(server.CreateClient(options), options, NullLogger<S3ImageStore>.Instance);

        var error = await Assert.ThrowsAsync<DiffusionApi.Options.SettingException>(() => store.EnsureBucketAsync());
        Assert.Contains("Diffusion:Storage:S3:Bucket", error.Message, StringComparison.Ordinal);
    }
}
