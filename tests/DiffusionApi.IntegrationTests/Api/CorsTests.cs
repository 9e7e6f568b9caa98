using System.Net;
using System.Net.Http.Json;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Api;

/// <summary>
/// Diffusion:Cors:AllowedOrigins over HTTP: preflights, the headers an allowed origin may read, and the start-up checks.
/// (tests/DiffusionApi.BrowserTests proves the same with a real browser page on another origin.)
/// </summary>
public sealed class CorsTests(CorsTests.Fixture fixture) : IClassFixture<CorsTests.Fixture>
{
    private const string Frontend = "https://app.example.com";

    /// <summary>A service with an API key that allows one frontend origin.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public DiffusionApiFactory Factory { get; } = new(new Dictionary<string, string?>
        {
            ["Diffusion:ApiKeys:0"] = "cors-key",
            ["Diffusion:Cors:AllowedOrigins:0"] = Frontend,
            ["Diffusion:Cors:AllowedOrigins:1"] = "http://127.0.0.1:5173",
        });

        public async Task InitializeAsync() => await Factory.CreateReadyClientAsync();
        public async Task DisposeAsync() => await Factory.DisposeAsync();
    }

    [Theory]
    [InlineData("/v1/jobs", "POST")]
    [InlineData("/v1/generate", "POST")]
    [InlineData("/v1/jobs/job_0123/events", "GET")]
    [InlineData("/v1/jobs/job_0123", "DELETE")]
    public async Task Preflight_FromAnAllowedOrigin_IsAnsweredWithoutAKey_AllowingTheMethodAndAuthorization(string path, string method)
    {
        var response = await fixture.Factory.CreateClient().SendAsync(Preflight(path, Frontend, method, "authorization,content-type"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(Frontend, Single(response, "Access-Control-Allow-Origin"));
        Assert.Contains(method, Single(response, "Access-Control-Allow-Methods").Split(','));
        var headers = Single(response, "Access-Control-Allow-Headers").ToLowerInvariant().Split(',');
        Assert.Contains("authorization", headers);
        Assert.Contains("content-type", headers);
        Assert.Equal("600", Single(response, "Access-Control-Max-Age"));
        Assert.False(response.Headers.Contains("Access-Control-Allow-Credentials"));
    }

    [Fact]
    public async Task Preflight_FromAnotherOrigin_GetsNoPermission()
    {
        var response = await fixture.Factory.CreateClient().SendAsync(Preflight("/v1/jobs", "https://evil.example.net", "POST", "authorization"));

        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False(response.Headers.Contains("Access-Control-Allow-Methods"));
    }

    [Fact]
    public async Task Response_ToAnAllowedOrigin_ExposesSeedJobIdLocationAndRetryAfter()
    {
        var client = fixture.Factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/generate") { Content = JsonContent.Create(Requests.Small(seed: 42)) };
        request.Headers.Add("Origin", Frontend);
        request.Headers.Add("Authorization", "Bearer cors-key");

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Frontend, Single(response, "Access-Control-Allow-Origin"));
        Assert.Equal(["X-Seed", "X-Job-Id", "Location", "Retry-After"], Single(response, "Access-Control-Expose-Headers").Split(','));
        Assert.Equal("42", Single(response, "X-Seed"));
    }

    [Fact]
    public async Task Unauthorized_ToAnAllowedOrigin_CarriesCorsHeaders_SoThePageCanReadTheProblem()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Add("Origin", Frontend);

        var response = await fixture.Factory.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(Frontend, Single(response, "Access-Control-Allow-Origin"));
        await response.ReadProblemAsync();
    }

    [Fact]
    public async Task WithoutAllowedOrigins_CorsIsOff()
    {
        await using var factory = new DiffusionApiFactory();
        var client = factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        request.Headers.Add("Origin", Frontend);

        var preflight = await client.SendAsync(Preflight("/v1/jobs", Frontend, "POST", "content-type"));
        var simple = await client.SendAsync(request);

        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False(simple.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Wildcard_WithoutApiKeys_AllowsAnyOrigin()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?> { ["Diffusion:Cors:AllowedOrigins:0"] = "*" });

        var response = await factory.CreateClient().SendAsync(Preflight("/v1/jobs", "https://anywhere.example.org", "POST", "content-type"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("*", Single(response, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public void Wildcard_WithApiKeys_FailsAtStartNamingTheSetting()
    {
        var error = DiffusionApiFactory.StartFailure(new Dictionary<string, string?>
        {
            ["Diffusion:ApiKeys:0"] = "a-key",
            ["Diffusion:Cors:AllowedOrigins:0"] = "*",
        });
        Assert.Contains("Diffusion:Cors:AllowedOrigins may be '*' only when Diffusion:ApiKeys is empty", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://app.example.com/", "Diffusion:Cors:AllowedOrigins:0 must be an origin")]
    [InlineData("https://app.example.com/app", "Diffusion:Cors:AllowedOrigins:0 must be an origin")]
    [InlineData("app.example.com", "Diffusion:Cors:AllowedOrigins:0 must be an origin")]
    [InlineData("ftp://app.example.com", "Diffusion:Cors:AllowedOrigins:0 must be an origin")]
    [InlineData("https://app.example.com:443", "Diffusion:Cors:AllowedOrigins:0 must be an origin")]
    public void MalformedOrigin_FailsAtStartNamingTheSettingAndTheValue(string origin, string expected)
    {
        var error = DiffusionApiFactory.StartFailure(new Dictionary<string, string?> { ["Diffusion:Cors:AllowedOrigins:0"] = origin });
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Contains($"'{origin}'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Wildcard_AmongOtherOrigins_FailsAtStart()
    {
        var error = DiffusionApiFactory.StartFailure(new Dictionary<string, string?>
        {
            ["Diffusion:Cors:AllowedOrigins:0"] = Frontend,
            ["Diffusion:Cors:AllowedOrigins:1"] = "*",
        });
        Assert.Contains("may hold '*' only as its single entry", error.ToString(), StringComparison.Ordinal);
    }

    private static HttpRequestMessage Preflight(string path, string origin, string method, string headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        request.Headers.Add("Access-Control-Request-Headers", headers);
        return request;
    }

    private static string Single(HttpResponseMessage response, string header) =>
        Assert.Single(response.Headers.TryGetValues(header, out var values) ? values : response.Content.Headers.TryGetValues(header, out var content) ? content : []);
}
