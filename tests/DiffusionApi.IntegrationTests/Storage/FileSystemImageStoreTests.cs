using DiffusionApi.IntegrationTests.Contracts;
using DiffusionApi.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace DiffusionApi.IntegrationTests.Storage;

/// <summary>The image store contract on local disk, plus what only a folder of files can get wrong.</summary>
public sealed class FileSystemImageStoreTests : ImageStoreContract, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("diffusion-store-test-").FullName;
    private readonly FileSystemImageStore _store;

    public FileSystemImageStoreTests() => _store = new FileSystemImageStore(Path.Combine(_root, "images"), NullLogger<FileSystemImageStore>.Instance);

    protected override IImageStore Store => _store;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Put_LeavesOneFilePerImageAndNoTempFiles()
    {
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => _store.PutAsync(JobId, new byte[] { 9 }, "image/png")));

        Assert.Equal(20, Directory.GetFiles(_store.RootDirectory).Length);
        Assert.Empty(Directory.GetFiles(_store.RootDirectory, "*.tmp"));
    }

    [Fact]
    public async Task Open_NeverReadsAFileOutsideTheStoreFolder()
    {
        await File.WriteAllTextAsync(Path.Combine(_root, "secret.png"), "secret");

        Assert.Null(await _store.OpenAsync("../secret"));
        Assert.Null(await _store.OpenAsync(Path.Combine(_root, "secret")));
    }

    [Fact]
    public async Task RemoveOlderThan_ByFileTime_KeepsFreshImagesAndForeignFiles()
    {
        var old = await _store.PutAsync(JobId, new byte[] { 1 }, "image/png");
        var fresh = await _store.PutAsync(JobId, new byte[] { 2 }, "image/webp");
        File.SetLastWriteTimeUtc(Path.Combine(_store.RootDirectory, old + ".png"), DateTime.UtcNow.AddHours(-25));
        var foreign = Path.Combine(_store.RootDirectory, "keep-me.txt");
        await File.WriteAllTextAsync(foreign, "not an image of ours");
        File.SetLastWriteTimeUtc(foreign, DateTime.UtcNow.AddHours(-25));

        var removed = await _store.RemoveOlderThanAsync(DateTimeOffset.UtcNow.AddHours(-24));

        Assert.Equal(1, removed);
        Assert.Null(await _store.OpenAsync(old));
        var kept = await _store.OpenAsync(fresh);
        Assert.NotNull(kept);
        await kept.Content.DisposeAsync();
        Assert.True(File.Exists(foreign));
    }
}
