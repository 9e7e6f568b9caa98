using System.Net;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Api;

public sealed class GenerationApiTests(ReadyServiceFixture fixture) : IClassFixture<ReadyServiceFixture>
{
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task PostGenerate_AnswersWithTheImageBytesSeedAndJobId()
    {
        var response = await Client.PostGenerateAsync(Requests.Small(seed: 123));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("123", response.Headers.GetValues("X-Seed").Single());
        Assert.StartsWith("job_", response.Headers.GetValues("X-Job-Id").Single(), StringComparison.Ordinal);
        var png = await response.Content.ReadAsByteArrayAsync();
        Assert.True(Images.IsPng(png));
    }

    [Fact]
    public async Task PostGenerate_SameSeed_GivesIdenticalBytes_AnotherSeedAnotherImage()
    {
        var a = await (await Client.PostGenerateAsync(Requests.Small(seed: 9))).Content.ReadAsByteArrayAsync();
        var b = await (await Client.PostGenerateAsync(Requests.Small(seed: 9))).Content.ReadAsByteArrayAsync();
        var c = await (await Client.PostGenerateAsync(Requests.Small(seed: 10))).Content.ReadAsByteArrayAsync();

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [InlineData("jpeg", "image/jpeg")]
    [InlineData("webp", "image/webp")]
    [InlineData("png", "image/png")]
    public async Task PostGenerate_OutputFormat_SetsTheEncodingAndContentType(string format, string contentType)
    {
        var response = await Client.PostGenerateAsync(Requests.Small(outputFormat: format));

        Assert.Equal(contentType, response.Content.Headers.ContentType?.MediaType);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(format switch { "jpeg" => Images.IsJpeg(bytes), "webp" => Images.IsWebp(bytes), _ => Images.IsPng(bytes) });
    }

    [Fact]
    public async Task PostGenerate_WithNOtherThanOne_Returns400NamingN()
    {
        var response = await Client.PostGenerateAsync(Requests.Small(n: 2));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("n", (await response.ReadProblemAsync()).Errors().Keys);
    }
}
