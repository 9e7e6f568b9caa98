using DiffusionApi.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace DiffusionApi.IntegrationTests.Storage;

public sealed class FileSystemImageStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("diffusion-store-test-").FullName;
    private readonly FileSystemImageStore _store;

    public FileSystemImageStoreTests() => _store = new FileSystemImageStore(Path.Combine(_root, "images"), NullLogger<FileSystemImageStore>.Instance);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Save_ThenOpen_ReturnsTheSameBytesAndContentType()
    {
        var id = await _store.SaveAsync(new byte[] { 1, 2, 3 }, "image/jpeg");

        var image = await _store.OpenAsync(id);

        Assert.NotNull(image);
        await using var content = image.Content;
        using var copy = new MemoryStream();
        await content.CopyToAsync(copy);
        Assert.Equal(new byte[] { 1, 2, 3 }, copy.ToArray());
        Assert.Equal("image/jpeg", image.ContentType);
    }

    [Fact]
    public async Task Save_GeneratesDistinctWellFormedIds_AndLeavesNoTempFiles()
    {
        var ids = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => _store.SaveAsync(new byte[] { 9 }, "image/png")));

        Assert.Equal(20, ids.Distinct().Count());
        Assert.All(ids, id => Assert.True(ImageIds.IsValid(id)));
        Assert.Equal(20, Directory.GetFiles(_store.RootDirectory).Length);
        Assert.Empty(Directory.GetFiles(_store.RootDirectory, "*.tmp"));
    }

    [Fact]
    public async Task Save_WithAContentTypeThatIsNotAnImage_Throws()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _store.SaveAsync(new byte[] { 1 }, "text/html"));
    }

    [Theory]
    [InlineData("../secret")]
    [InlineData("..%2fsecret")]
    [InlineData("/etc/passwd")]
    [InlineData("C:\\Windows\\win.ini")]
    [InlineData("0123456789ABCDEF0123456789ABCDEF")]
    [InlineData("0123456789abcdef0123456789abcdef.png")]
    [InlineData("")]
    public async Task Open_WithAnythingButAStoredId_ReturnsNull(string id)
    {
        await File.WriteAllTextAsync(Path.Combine(_root, "secret.png"), "secret");

        Assert.Null(await _store.OpenAsync(id));
    }

    [Fact]
    public async Task RemoveOlderThan_RemovesOnlyImagesOlderThanTheCutoff()
    {
        var old = await _store.SaveAsync(new byte[] { 1 }, "image/png");
        var fresh = await _store.SaveAsync(new byte[] { 2 }, "image/webp");
        File.SetLastWriteTimeUtc(Path.Combine(_store.RootDirectory, old + ".png"), DateTime.UtcNow.AddHours(-25));
        var foreign = Path.Combine(_store.RootDirectory, "keep-me.txt");
        await File.WriteAllTextAsync(foreign, "not an image of ours");
        File.SetLastWriteTimeUtc(foreign, DateTime.UtcNow.AddHours(-25));

        var removed = _store.RemoveOlderThan(DateTimeOffset.UtcNow.AddHours(-24));

        Assert.Equal(1, removed);
        Assert.Null(await _store.OpenAsync(old));
        var kept = await _store.OpenAsync(fresh);
        Assert.NotNull(kept);
        await kept.Content.DisposeAsync();
        Assert.True(File.Exists(foreign));
    }
}
