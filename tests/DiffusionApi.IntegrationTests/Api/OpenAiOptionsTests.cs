using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Api;

/// <summary>OpenAI fields we can honour are honoured; those we cannot are a 400 naming the field and the value.</summary>
public sealed class OpenAiOptionsTests(ReadyServiceFixture fixture) : IClassFixture<ReadyServiceFixture>
{
    private HttpClient Client => fixture.Client;

    private static Dictionary<string, object?> Small(params (string Key, object? Value)[] extra)
    {
        var body = (Dictionary<string, object?>)Requests.Small();
        foreach (var (key, value) in extra) body[key] = value;
        return body;
    }

    private async Task<byte[]> GenerateAsync(Dictionary<string, object?> body)
    {
        var response = await Client.PostGenerateAsync(body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync();
    }

    private async Task<IReadOnlyDictionary<string, string[]>> RejectedAsync(Dictionary<string, object?> body, string path = "/v1/images/generations")
    {
        var response = await Client.PostAsJsonAsync(path, body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        return (await response.ReadProblemAsync()).Errors();
    }

    [Theory]
    [InlineData("jpeg")]
    [InlineData("webp")]
    public async Task OutputCompression_IsTheJpegOrWebpQuality(string format)
    {
        var low = await GenerateAsync(Small(("size", "128x128"), ("output_format", format), ("output_compression", 5)));
        var high = await GenerateAsync(Small(("size", "128x128"), ("output_format", format), ("output_compression", 100)));

        Assert.True(format == "jpeg" ? Images.IsJpeg(low) && Images.IsJpeg(high) : Images.IsWebp(low) && Images.IsWebp(high));
        Assert.True(low.Length < high.Length, $"quality 5 gave {low.Length} bytes, quality 100 gave {high.Length}");
    }

    [Theory]
    [InlineData("jpeg", -1)]
    [InlineData("webp", 101)]
    [InlineData("png", 50)]
    [InlineData(null, 50)]
    public async Task OutputCompression_OutOfRangeOrForPng_Returns400NamingIt(string? format, int compression)
    {
        var errors = await RejectedAsync(Small(("output_format", format), ("output_compression", compression)));

        Assert.Equal(["output_compression"], errors.Keys);
    }

    [Theory]
    [InlineData("low", 10)]
    [InlineData("medium", 20)]
    [InlineData("auto", 20)]
    [InlineData("standard", 20)]
    [InlineData("high", 40)]
    [InlineData("hd", 40)]
    public async Task Quality_ChoosesTheModelsStepPreset(string quality, int steps)
    {
        var body = Small(("quality", quality));
        body.Remove("steps");

        var png = await GenerateAsync(body);

        Assert.Contains($"Steps: {steps},", Images.PngText(png, "parameters"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Quality_WithSteps_Returns400_AndAnUnknownQualityToo()
    {
        Assert.Contains("not both", Assert.Single((await RejectedAsync(Small(("quality", "high"), ("steps", 2))))["quality"]), StringComparison.Ordinal);
        Assert.Contains("'ultra'", Assert.Single((await RejectedAsync(Small(("quality", "ultra"))))["quality"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Quality_Auto_WithSteps_UsesTheSteps()
    {
        var png = await GenerateAsync(Small(("quality", "auto"), ("steps", 3)));

        Assert.Contains("Steps: 3,", Images.PngText(png, "parameters"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("opaque")]
    [InlineData("auto")]
    public async Task Background_OpaqueOrAuto_IsHonoured(string background)
    {
        Assert.True(Images.IsPng(await GenerateAsync(Small(("background", background)))));
    }

    [Fact]
    public async Task Background_Transparent_Returns400NamingFieldAndValue()
    {
        var message = Assert.Single((await RejectedAsync(Small(("background", "transparent"))))["background"]);

        Assert.Contains("'transparent' is not supported", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("low")]
    [InlineData("auto")]
    public async Task Moderation_IsAccepted(string moderation)
    {
        Assert.True(Images.IsPng(await GenerateAsync(Small(("moderation", moderation)))));
    }

    [Fact]
    public async Task Moderation_OtherValue_Returns400()
    {
        Assert.Equal(["moderation"], (await RejectedAsync(Small(("moderation", "strict")))).Keys);
    }

    [Fact]
    public async Task Style_Returns400NamingFieldAndValue()
    {
        var message = Assert.Single((await RejectedAsync(Small(("style", "vivid"))))["style"]);

        Assert.StartsWith("style: \"vivid\" is not supported", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/jobs", "url")]
    [InlineData("/v1/jobs", "b64_json")]
    [InlineData("/v1/generate", "url")]
    [InlineData("/v1/generate", "b64_json")]
    public async Task ResponseFormat_OnEndpointsWithOneAnswerForm_Returns400(string path, string format)
    {
        var message = Assert.Single((await RejectedAsync(Small(("response_format", format)), path))["response_format"]);

        Assert.Contains($"not used by {path}", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("64x64\u0000")]
    [InlineData("64x64\u0000\u0000\u0000")]
    [InlineData("64\u0000x64")]
    [InlineData("64x64\n")]
    [InlineData("64x64\u001b")]
    [InlineData(" 64x64")]
    public async Task Size_WithControlCharacters_Returns400ShowingThemEscaped(string size)
    {
        var message = Assert.Single((await RejectedAsync(Small(("size", size))))["size"]);

        Assert.DoesNotContain(message, c => char.IsControl(c));
    }

    [Fact]
    public async Task Swagger_DescribesTheOpenAiFields()
    {
        using var document = JsonDocument.Parse(await Client.GetStringAsync("/swagger/v1/swagger.json"));
        var properties = document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("ImageGenerationRequest").GetProperty("properties");

        foreach (var field in new[] { "quality", "background", "output_compression", "moderation" })
            Assert.True(properties.GetProperty(field).TryGetProperty("description", out _), $"{field} is undocumented");
        Assert.False(properties.TryGetProperty("style", out _));
    }
}
