using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionApi.Testing;

namespace DiffusionApi.IntegrationTests.Api;

/// <summary>
/// Headers every answer carries, on real Kestrel (the in-memory test server adds no Server header of its own), and the
/// caching of stored images, whose bytes never change.
/// </summary>
public sealed class ResponseHeadersTests(ResponseHeadersTests.Fixture fixture) : IClassFixture<ResponseHeadersTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        public ServiceProcess Service { get; private set; } = null!;
        public HttpClient Client { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Service = await ServiceProcess.StartAsync(SharedTinyModel.Directory, new Dictionary<string, string> { ["Diffusion:Storage:RetentionHours"] = "2" });
            Client = Service.CreateClient();
        }

        public async Task DisposeAsync()
        {
            Client.Dispose();
            await Service.DisposeAsync();
        }
    }

    private HttpClient Client => fixture.Client;

    public static TheoryData<string, string, string?> EveryKindOfAnswer() => new()
    {
        { "GET", "/v1/models", null },
        { "GET", "/v1/nothing-here", null },                                   // 404 from routing
        { "GET", "/v1/images/0123456789abcdef0123456789abcdef", null },       // 404 from the endpoint
        { "POST", "/v1/images/generations", "{\"prompt\":" },                  // 400
        { "POST", "/v1/images/generations", "{\"prompt\":\"fox\",\"size\":\"500x64\"}" },
        { "POST", "/v1/generate", "{\"prompt\":\"fox\",\"size\":\"64x64\",\"steps\":1}" }, // image bytes
        { "GET", "/health/live", null },
        { "GET", "/health/ready", null },
        { "GET", "/metrics", null },
        { "GET", "/swagger/v1/swagger.json", null },
    };

    [Theory]
    [MemberData(nameof(EveryKindOfAnswer))]
    public async Task EveryAnswer_SaysNosniff_AndHasNoServerBanner(string method, string path, string? body)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");

        var response = await Client.SendAsync(request);

        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.False(response.Headers.Contains("Server"), $"Server: {string.Join(",", response.Headers.Server)}");
    }

    private async Task<string> StoredImagePathAsync()
    {
        var response = await Client.PostAsJsonAsync("/v1/images/generations", Requests.Small(responseFormat: "url"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var url = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data")[0].GetProperty("url").GetString()!;
        return new Uri(url).PathAndQuery;
    }

    [Fact]
    public async Task StoredImage_HasAStrongETag_AndPrivateImmutableCachingUntilItExpires()
    {
        var path = await StoredImagePathAsync();

        var response = await Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var etag = response.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);
        Assert.Equal($"\"{path.Split('/')[^1]}\"", etag.Tag);
        var cache = response.Headers.CacheControl;
        Assert.NotNull(cache);
        Assert.True(cache.Private);
        Assert.Contains(cache.Extensions, e => e.Name == "immutable");
        Assert.InRange(cache.MaxAge!.Value, TimeSpan.FromHours(2) - TimeSpan.FromMinutes(1), TimeSpan.FromHours(2));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
    }

    [Fact]
    public async Task StoredImage_ConditionalGetWithItsETag_Returns304WithoutBody()
    {
        var path = await StoredImagePathAsync();
        var etag = (await Client.GetAsync(path)).Headers.ETag!;

        var again = new HttpRequestMessage(HttpMethod.Get, path);
        again.Headers.IfNoneMatch.Add(etag);
        var notModified = await Client.SendAsync(again);
        var other = new HttpRequestMessage(HttpMethod.Get, path);
        other.Headers.IfNoneMatch.Add(new System.Net.Http.Headers.EntityTagHeaderValue("\"0123456789abcdef0123456789abcdef\""));
        var modified = await Client.SendAsync(other);

        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        Assert.Equal(etag, notModified.Headers.ETag);
        Assert.Contains("immutable", notModified.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, modified.StatusCode);
        Assert.True(Images.IsPng(await modified.Content.ReadAsByteArrayAsync()));
    }
}
