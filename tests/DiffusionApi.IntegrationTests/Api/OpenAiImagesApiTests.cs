using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;
using OpenAI;
using OpenAI.Images;

namespace DiffusionApi.IntegrationTests.Api;

public sealed class OpenAiImagesApiTests(ReadyServiceFixture fixture) : IClassFixture<ReadyServiceFixture>
{
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task PostGenerations_B64Json_ReturnsOnePngPerImageWithSeedPlusIndex()
    {
        var response = await Client.PostGenerationsAsync(Requests.Small(seed: 1000, n: 3));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(body.RootElement.GetProperty("created").GetInt64() > 0);
        var data = body.RootElement.GetProperty("data").EnumerateArray().ToArray();
        Assert.Equal(3, data.Length);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(1000UL + (ulong)i, data[i].GetProperty("seed").GetUInt64());
            var png = Convert.FromBase64String(data[i].GetProperty("b64_json").GetString()!);
            Assert.True(Images.IsPng(png));
            Assert.Equal((64, 64), Images.PngSize(png));
            Assert.False(data[i].TryGetProperty("url", out _));
        }
    }

    [Theory]
    [InlineData("gpu", "RNG: NV")]
    [InlineData("cpu", "RNG: CPU")]
    public async Task PostGenerations_PngInfotext_RecordsEachImagesSeedAndTheRng(string rng, string recorded)
    {
        var request = (Dictionary<string, object?>)Requests.Small(seed: 500, n: 2);
        request["rng"] = rng;

        var response = await Client.PostGenerationsAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var data = body.RootElement.GetProperty("data").EnumerateArray().ToArray();
        for (var i = 0; i < data.Length; i++)
        {
            var parameters = Images.PngText(Convert.FromBase64String(data[i].GetProperty("b64_json").GetString()!), "parameters");
            Assert.NotNull(parameters);
            Assert.Contains($"Seed: {500 + i},", parameters, StringComparison.Ordinal);
            Assert.Contains(recorded, parameters, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task PostGenerations_ImageOfSeedPlusIndex_EqualsThatSeedRequestedAlone()
    {
        var pair = await Client.PostGenerationsAsync(Requests.Small(seed: 7, n: 2));
        var alone = await Client.PostGenerationsAsync(Requests.Small(seed: 8));

        var second = (await pair.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data")[1].GetProperty("b64_json").GetString();
        var single = (await alone.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data")[0].GetProperty("b64_json").GetString();
        Assert.Equal(single, second);
    }

    [Fact]
    public async Task PostGenerations_WithoutSeed_DrawsOneAndReturnsIt()
    {
        var first = await Client.PostGenerationsAsync(Requests.Small(seed: null));
        var second = await Client.PostGenerationsAsync(Requests.Small(seed: null));

        var a = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data")[0].GetProperty("seed").GetUInt64();
        var b = (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data")[0].GetProperty("seed").GetUInt64();
        Assert.NotEqual(a, b);
        Assert.Equal(a.ToString(System.Globalization.CultureInfo.InvariantCulture), first.Headers.GetValues("X-Seed").Single());
    }

    [Fact]
    public async Task PostGenerations_WithoutSeed_DrawsEverySeedBelow2To32SoJavaScriptReadsItExactly()
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var response = await Client.PostGenerationsAsync(Requests.Small(seed: null, n: 4));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var seeds = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data").EnumerateArray().Select(d => d.GetProperty("seed").GetUInt64()).ToArray();
            Assert.All(seeds, seed => Assert.True(seed <= uint.MaxValue, $"seed {seed} is not below 2^32"));
            Assert.Equal([seeds[0], seeds[0] + 1, seeds[0] + 2, seeds[0] + 3], seeds);
        }
    }

    [Theory]
    [InlineData("18446744073709551615")]   // 2^64 − 1 as a JSON number
    [InlineData("\"18446744073709551615\"")] // and as a string, which JavaScript clients can send without losing digits
    public async Task PostGenerations_ExplicitSeedUpTo2To64Minus1_IsUsedAndReturnedExactly(string seed)
    {
        var json = $"{{\"prompt\":\"a red fox\",\"size\":\"64x64\",\"steps\":2,\"seed\":{seed}}}";

        var response = await Client.PostAsync("/v1/images/generations", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ulong.MaxValue, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data")[0].GetProperty("seed").GetUInt64());
        Assert.Equal("18446744073709551615", response.Headers.GetValues("X-Seed").Single());
    }

    [Fact]
    public async Task PostGenerations_UrlFormat_ReturnsAbsoluteUrlsThatServeTheStoredImages()
    {
        var response = await Client.PostGenerationsAsync(Requests.Small(seed: 5, n: 2, responseFormat: "url", outputFormat: "webp"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var data = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data");
        foreach (var item in data.EnumerateArray())
        {
            Assert.False(item.TryGetProperty("b64_json", out _));
            var url = new Uri(item.GetProperty("url").GetString()!);
            Assert.True(url.IsAbsoluteUri);
            Assert.StartsWith("/v1/images/", url.AbsolutePath, StringComparison.Ordinal);
            var image = await Client.GetAsync(url.PathAndQuery);
            Assert.Equal(HttpStatusCode.OK, image.StatusCode);
            Assert.Equal("image/webp", image.Content.Headers.ContentType?.MediaType);
            Assert.True(Images.IsWebp(await image.Content.ReadAsByteArrayAsync()));
        }
    }

    [Fact]
    public async Task PostGenerations_UrlFormat_BehindATlsProxy_ReturnsTheClientsSchemeAndHost_WhenForwardedHeadersAreOn()
    {
        // ASPNETCORE_FORWARDEDHEADERS_ENABLED=true (the chart sets it with its Ingress) honours X-Forwarded-Proto.
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?> { ["ForwardedHeaders_Enabled"] = "true" });
        var client = await factory.CreateReadyClientAsync();
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/images/generations") { Content = JsonContent.Create(Requests.Small(responseFormat: "url")) };
        request.Headers.Host = "diffusion.example.com";
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var url = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data")[0].GetProperty("url").GetString();
        Assert.StartsWith("https://diffusion.example.com/v1/images/", url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAiDotNetSdk_GeneratesAnImageThroughThisService()
    {
        var models = await Client.GetFromJsonAsync<JsonElement>("/v1/models");
        var modelId = models.GetProperty("data")[0].GetProperty("id").GetString()!;
        var serviceUrl = fixture.Factory.Server.BaseAddress;
        // docs/dotnet.md sample "openai-client": begin
        var options = new OpenAIClientOptions
        {
            Endpoint = new Uri(serviceUrl, "/v1"),
            Transport = new HttpClientPipelineTransport(fixture.Factory.CreateClient()), // in-memory test server; omit against a real URL
        };
        var client = new ImageClient(modelId, new ApiKeyCredential("not-checked"), options);

        ClientResult<GeneratedImage> result = await client.GenerateImageAsync("a lighthouse at dusk", new ImageGenerationOptions
        {
            Size = new GeneratedImageSize(64, 64),
            ResponseFormat = GeneratedImageFormat.Bytes,
        });
        byte[] png = result.Value.ImageBytes.ToArray();
        // docs/dotnet.md sample "openai-client": end

        var bytes = png;
        Assert.True(Images.IsPng(bytes));
        Assert.Equal((64, 64), Images.PngSize(bytes));
    }
}
