using System.Net;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Api;

/// <summary>GET /v1/images/{id} serves stored images by id only: no client text reaches the file system.</summary>
public sealed class ImagesApiTests(ImagesApiTests.Fixture fixture) : IClassFixture<ImagesApiTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        public DiffusionApiFactory Factory { get; } = new();
        public HttpClient Client { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Client = await Factory.CreateReadyClientAsync();
            // Files a traversal would reach: one beside the image folder, one in it under a non-id name.
            await File.WriteAllTextAsync(Path.Combine(Factory.DataDirectory, "secret.png"), "TOP-SECRET-CONTENT");
            Directory.CreateDirectory(Path.Combine(Factory.DataDirectory, "images"));
            await File.WriteAllTextAsync(Path.Combine(Factory.DataDirectory, "images", "notanid.png"), "TOP-SECRET-CONTENT");
        }

        public async Task DisposeAsync() => await Factory.DisposeAsync();
    }

    public static TheoryData<string> HostilePaths() =>
    [
        "/v1/images/../secret.png",
        "/v1/images/..%2fsecret.png",
        "/v1/images/%2e%2e%2fsecret.png",
        "/v1/images/%2e%2e%2f%2e%2e%2fsecret.png",
        "/v1/images/..%5csecret.png",
        "/v1/images/%2fetc%2fpasswd",
        "/v1/images/%2Ftmp%2Fsecret.png",
        "/v1/images/notanid.png",
        "/v1/images/notanid",
        "/v1/images/0123456789ABCDEF0123456789ABCDEF",
        "/v1/images/0123456789abcdef0123456789abcdef.png",
        "/v1/images/0123456789abcdef0123456789abcde%2f",
    ];

    [Theory]
    [MemberData(nameof(HostilePaths))]
    public async Task GetImage_WithPathLikeOrMalformedId_Returns404Problem(string path)
    {
        var response = await fixture.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("TOP-SECRET-CONTENT", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetImage_WithUnknownWellFormedId_Returns404Problem()
    {
        var response = await fixture.Client.GetAsync("/v1/images/0123456789abcdef0123456789abcdef");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        await response.ReadProblemAsync();
    }
}
