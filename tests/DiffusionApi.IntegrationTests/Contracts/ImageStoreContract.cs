using DiffusionApi.Storage;

namespace DiffusionApi.IntegrationTests.Contracts;

/// <summary>
/// The <see cref="IImageStore"/> contract, run against every implementation: a subclass supplies <see cref="Store"/>
/// (a fresh, empty store per test) and cleans it up.
/// </summary>
public abstract class ImageStoreContract
{
    protected const string JobId = "job_00000000000000000000000000000001";

    protected abstract IImageStore Store { get; }

    [SkippableFact]
    public async Task Put_ThenOpen_ReturnsTheSameBytesAndContentType()
    {
        var id = await Store.PutAsync(JobId, new byte[] { 1, 2, 3 }, "image/jpeg");

        var image = await Store.OpenAsync(id);

        Assert.NotNull(image);
        Assert.Equal(new byte[] { 1, 2, 3 }, await ReadAsync(image));
        Assert.Equal("image/jpeg", image.ContentType);
        Assert.Equal(id, image.Id);
    }

    [SkippableFact]
    public async Task Put_WithAnOwner_KeepsIt_AndWithoutOneOpensAsNobodys()
    {
        var owned = await Store.PutAsync(JobId, new byte[] { 4 }, "image/png", owner: "0123456789abcdef0123456789abcdef");
        var unowned = await Store.PutAsync(JobId, new byte[] { 5 }, "image/png");

        var ownedImage = await Store.OpenAsync(owned);
        var unownedImage = await Store.OpenAsync(unowned);

        Assert.Equal("0123456789abcdef0123456789abcdef", ownedImage!.Owner);
        Assert.Null(unownedImage!.Owner);
        await ownedImage.Content.DisposeAsync();
        await unownedImage.Content.DisposeAsync();
        Assert.True(await Store.DeleteAsync(owned));
        Assert.Null(await Store.OpenAsync(owned));
    }

    [SkippableFact]
    public async Task Put_GeneratesDistinctWellFormedIds()
    {
        var ids = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Store.PutAsync(JobId, new byte[] { 9 }, "image/png")));

        Assert.Equal(20, ids.Distinct().Count());
        Assert.All(ids, id => Assert.True(ImageIds.IsValid(id), id));
    }

    [SkippableFact]
    public async Task Put_WithAContentTypeThatIsNotAnImage_Throws()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync(JobId, new byte[] { 1 }, "text/html"));
    }

    [SkippableTheory]
    [InlineData("../secret")]
    [InlineData("..%2fsecret")]
    [InlineData("/etc/passwd")]
    [InlineData("C:\\Windows\\win.ini")]
    [InlineData("0123456789ABCDEF0123456789ABCDEF")]
    [InlineData("0123456789abcdef0123456789abcdef.png")]
    [InlineData("0123456789abcdef0123456789abcdef")]
    [InlineData("")]
    public async Task AnythingButAStoredId_IsNotFound(string id)
    {
        await Store.PutAsync(JobId, new byte[] { 1 }, "image/png");

        Assert.Null(await Store.OpenAsync(id));
        Assert.Null(await Store.GetDirectUrlAsync(id));
        Assert.False(await Store.DeleteAsync(id));
    }

    [SkippableFact]
    public async Task Delete_RemovesTheImage_AndASecondDeleteDoesNothing()
    {
        var id = await Store.PutAsync(JobId, new byte[] { 4 }, "image/webp");
        var other = await Store.PutAsync(JobId, new byte[] { 5 }, "image/webp");

        Assert.True(await Store.DeleteAsync(id));

        Assert.Null(await Store.OpenAsync(id));
        Assert.False(await Store.DeleteAsync(id));
        var kept = await Store.OpenAsync(other);
        Assert.NotNull(kept);
        Assert.Equal(new byte[] { 5 }, await ReadAsync(kept));
    }

    [SkippableFact]
    public async Task DirectUrl_IsNullOrAnAbsoluteUrl()
    {
        var id = await Store.PutAsync(JobId, new byte[] { 6 }, "image/png");

        var url = await Store.GetDirectUrlAsync(id);

        Assert.True(url is null || url.IsAbsoluteUri, url?.ToString());
    }

    [SkippableFact]
    public async Task RemoveOlderThan_RemovesImagesStoredBeforeTheCutoffOnly()
    {
        var id = await Store.PutAsync(JobId, new byte[] { 7 }, "image/png");

        Assert.Equal(0, await Store.RemoveOlderThanAsync(DateTimeOffset.UtcNow.AddHours(-1)));
        var kept = await Store.OpenAsync(id);
        Assert.NotNull(kept);
        await kept.Content.DisposeAsync();

        Assert.Equal(1, await Store.RemoveOlderThanAsync(DateTimeOffset.UtcNow.AddMinutes(1)));
        Assert.Null(await Store.OpenAsync(id));
    }

    protected static async Task<byte[]> ReadAsync(StoredImage image)
    {
        await using var content = image.Content;
        using var copy = new MemoryStream();
        await content.CopyToAsync(copy);
        return copy.ToArray();
    }
}
