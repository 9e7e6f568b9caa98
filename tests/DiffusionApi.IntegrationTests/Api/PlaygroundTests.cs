using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Api;

/// <summary>
/// The playground's HTTP side: the page at /, its files, the CSP they carry, /playground/config and
/// Diffusion:Playground:Enabled. (What the page does is tested in a real browser in tests/DiffusionApi.BrowserTests.)
/// </summary>
public sealed partial class PlaygroundTests(ReadyServiceFixture fixture) : IClassFixture<ReadyServiceFixture>
{
    public static TheoryData<string, string> Files => new()
    {
        { "/", "text/html" },
        { "/playground/playground.css", "text/css" },
        { "/playground/playground.js", "text/javascript" },
        { "/playground/api.js", "text/javascript" },
        { "/playground/sse.js", "text/javascript" },
        { "/playground/png-text.js", "text/javascript" },
        { "/playground/curl.js", "text/javascript" },
        { "/playground/init-image.js", "text/javascript" },
        { "/playground/mask-editor.js", "text/javascript" },
        { "/playground/pending-slot.js", "text/javascript" },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public async Task PlaygroundFile_IsServedWithItsTypeAndAStrictContentSecurityPolicy(string path, string mediaType)
    {
        var response = await fixture.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        var policy = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("script-src 'self';", policy, StringComparison.Ordinal);
        Assert.Contains("style-src 'self';", policy, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self';", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
    }

    [Fact]
    public async Task Page_HasNoInlineScriptOrStyle_AndLoadsNothingFromOtherHosts()
    {
        var html = await fixture.Client.GetStringAsync("/");

        Assert.All(ScriptTags().Matches(html), tag => Assert.Matches("src=\"/playground/[a-z-]+\\.js\"", tag.Value));
        Assert.DoesNotMatch("<style", html);
        Assert.DoesNotMatch(" style=", html);
        Assert.DoesNotMatch(" on[a-z]+=", html); // no inline event handlers
        Assert.All(Urls().Matches(html), url => Assert.Matches("^(/|data:,$)", url.Groups["url"].Value));
        foreach (var id in new[] { "prompt", "generate", "progress", "gallery", "cancel", "copy-curl", "api-key" })
            Assert.Contains($"id=\"{id}\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Page_AnswersConditionalRequestsWith304()
    {
        var first = await fixture.Client.GetAsync("/");
        using var again = new HttpRequestMessage(HttpMethod.Get, "/");
        again.Headers.IfNoneMatch.Add(first.Headers.ETag!);

        var response = await fixture.Client.SendAsync(again);

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
    }

    [Fact]
    public async Task Config_SaysNoKeyIsNeeded_AndGivesTheLimits()
    {
        var config = JsonDocument.Parse(await fixture.Client.GetStringAsync("/playground/config")).RootElement;

        Assert.False(config.GetProperty("api_key_required").GetBoolean());
        var limits = config.GetProperty("limits");
        Assert.Equal(1024, limits.GetProperty("max_width").GetInt32());
        Assert.Equal(150, limits.GetProperty("max_steps").GetInt32());
        Assert.Equal(4, limits.GetProperty("max_images").GetInt32());
        Assert.Equal(30, limits.GetProperty("max_guidance").GetDouble());
    }

    [Fact]
    public async Task WithApiKeys_ThePageAndItsConfigNeedNoKey_AndTheConfigSaysAKeyIsRequired()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?> { ["Diffusion:ApiKeys:0"] = "a-key" });
        var client = factory.CreateClient();

        var page = await client.GetAsync("/");
        var config = JsonDocument.Parse(await client.GetStringAsync("/playground/config")).RootElement;

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.True(config.GetProperty("api_key_required").GetBoolean());
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/v1/models")).StatusCode);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/playground/playground.js")]
    [InlineData("/playground/config")]
    public async Task WhenDisabled_ThePlaygroundAnswers404(string path)
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?> { ["Diffusion:Playground:Enabled"] = "false" });

        var response = await factory.CreateClient().GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        await response.ReadProblemAsync();
    }

    [Fact]
    public void InvalidEnabledValue_FailsAtStartNamingTheSetting()
    {
        var error = DiffusionApiFactory.StartFailure(new Dictionary<string, string?> { ["Diffusion:Playground:Enabled"] = "maybe" });
        Assert.Contains("Diffusion:Playground:Enabled", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownPlaygroundFile_Is404()
    {
        var response = await fixture.Client.GetAsync("/playground/missing.js");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [GeneratedRegex("<script[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptTags();

    [GeneratedRegex("(?:src|href)=\"(?<url>[^\"]*)\"", RegexOptions.IgnoreCase)]
    private static partial Regex Urls();
}
