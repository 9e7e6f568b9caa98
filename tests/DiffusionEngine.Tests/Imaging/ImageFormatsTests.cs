using DiffusionEngine.Imaging;

namespace DiffusionEngine.Tests.Imaging;

public sealed class ImageFormatsTests
{
    [Theory]
    [InlineData("png", ImageFormat.Png)]
    [InlineData("PNG", ImageFormat.Png)]
    [InlineData("jpeg", ImageFormat.Jpeg)]
    [InlineData("Jpg", ImageFormat.Jpeg)]
    [InlineData("webp", ImageFormat.Webp)]
    [InlineData("WebP", ImageFormat.Webp)]
    public void Parse_AcceptsNamesIgnoringCase(string name, ImageFormat expected) =>
        Assert.Equal(expected, ImageFormats.Parse(name));

    [Theory]
    [InlineData("gif")]
    [InlineData("")]
    [InlineData(" png")]
    public void Parse_UnknownName_ThrowsListingAcceptedNames(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => ImageFormats.Parse(name));

        Assert.Contains("png, jpeg, jpg, webp", error.Message);
        Assert.Contains($"\"{name}\"", error.Message);
    }

    [Theory]
    [InlineData(ImageFormat.Png, "image/png", ".png")]
    [InlineData(ImageFormat.Jpeg, "image/jpeg", ".jpg")]
    [InlineData(ImageFormat.Webp, "image/webp", ".webp")]
    public void ContentTypeAndExtension_MatchTheFormat(ImageFormat format, string contentType, string extension)
    {
        Assert.Equal(contentType, ImageFormats.ContentType(format));
        Assert.Equal(extension, format.Extension());
    }
}
