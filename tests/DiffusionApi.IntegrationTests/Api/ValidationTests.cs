using System.Net;
using System.Net.Http.Json;
using System.Text;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Api;

/// <summary>Every limit in Diffusion:Limits is crossed by one case; each answer is a 400 problem naming the field.</summary>
public sealed class ValidationTests(ValidationTests.Fixture fixture) : IClassFixture<ValidationTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        public DiffusionApiFactory Factory { get; } = new(new Dictionary<string, string?>
        {
            ["Diffusion:Limits:MinWidth"] = "64",
            ["Diffusion:Limits:MaxWidth"] = "256",
            ["Diffusion:Limits:MinHeight"] = "64",
            ["Diffusion:Limits:MaxHeight"] = "256",
            ["Diffusion:Limits:MaxPixels"] = "16384",
            ["Diffusion:Limits:MinSteps"] = "1",
            ["Diffusion:Limits:MaxSteps"] = "4",
            ["Diffusion:Limits:MaxImages"] = "3",
            ["Diffusion:Limits:MinGuidance"] = "0",
            ["Diffusion:Limits:MaxGuidance"] = "20",
            ["Diffusion:Limits:MaxPromptLength"] = "100",
            ["Diffusion:Limits:MaxSeed"] = "1000",
            ["Diffusion:Limits:MaxRequestBodyBytes"] = "4096",
            // Image endpoints allow MaxRequestBodyBytes + two base64 images: 4096 + 2 × 1368 = 6832 bytes.
            ["Diffusion:Limits:MaxImageBytes"] = "1024",
        });
        public HttpClient Client { get; private set; } = null!;
        public async Task InitializeAsync() => Client = await Factory.CreateReadyClientAsync();
        public async Task DisposeAsync() => await Factory.DisposeAsync();
    }

    private HttpClient Client => fixture.Client;

    private static Dictionary<string, object?> Valid() => new()
    {
        ["prompt"] = "a red fox",
        ["size"] = "64x64",
        ["steps"] = 2,
        ["seed"] = 1,
    };

    private static object[] Case(string field, string key, object? value)
    {
        var body = Valid();
        body[key] = value;
        return [field, body];
    }

    public static TheoryData<string, Dictionary<string, object?>> BeyondTheLimits()
    {
        var data = new TheoryData<string, Dictionary<string, object?>>();
        foreach (var c in new[]
        {
            Case("size", "size", "60x64"),       // width not a multiple of 8
            Case("size", "size", "64x60"),       // height not a multiple of 8
            Case("size", "size", "56x64"),       // width below MinWidth
            Case("size", "size", "264x64"),      // width above MaxWidth
            Case("size", "size", "64x56"),       // height below MinHeight
            Case("size", "size", "64x264"),      // height above MaxHeight
            Case("size", "size", "136x128"),     // 17408 pixels > MaxPixels 16384
            Case("size", "size", "large"),       // not WIDTHxHEIGHT
            Case("steps", "steps", 0),
            Case("steps", "steps", 5),
            Case("n", "n", 0),
            Case("n", "n", 4),
            Case("guidance_scale", "guidance_scale", -0.5),
            Case("guidance_scale", "guidance_scale", 20.5),
            Case("prompt", "prompt", ""),
            Case("prompt", "prompt", null),
            Case("prompt", "prompt", new string('a', 101)),
            Case("negative_prompt", "negative_prompt", new string('a', 101)),
            Case("scheduler", "scheduler", "no_such_scheduler"),
            Case("output_format", "output_format", "gif"),
            Case("response_format", "response_format", "xml"),
            Case("rng", "rng", "tpu"),
            Case("model", "model", "dall-e-3"),
            Case("seed", "seed", 1001),          // above MaxSeed
            Case("seed", "seed", -1),            // not an unsigned integer
            Case("seed", "seed", "abc"),         // not a number
            Case("steps", "steps", "many"),      // not a number
        })
        {
            data.Add((string)c[0], (Dictionary<string, object?>)c[1]);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(BeyondTheLimits))]
    public async Task PostGenerations_BeyondALimit_Returns400ProblemNamingTheField(string field, Dictionary<string, object?> body)
    {
        var response = await Client.PostGenerationsAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadProblemAsync();
        Assert.Contains(field, problem.Errors().Keys);
    }

    [Fact]
    public async Task PostGenerations_SeedPlusImageIndexBeyondMaxSeed_Returns400NamingSeed()
    {
        var body = Valid();
        body["seed"] = 999;
        body["n"] = 3; // image 2 would use seed 1001

        var response = await Client.PostGenerationsAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("seed", (await response.ReadProblemAsync()).Errors().Keys);
    }

    [Fact]
    public async Task PostGenerations_AtEveryLimit_IsAccepted()
    {
        var body = new Dictionary<string, object?>
        {
            ["prompt"] = new string('a', 100),
            ["negative_prompt"] = new string('b', 100),
            ["size"] = "128x128", // exactly MaxPixels
            ["steps"] = 1,
            ["n"] = 3,
            ["guidance_scale"] = 20,
            ["seed"] = 998, // last image uses 1000 = MaxSeed
            ["rng"] = "gpu",
        };

        var response = await Client.PostGenerationsAsync(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task PostGenerations_WithSeveralBadFields_NamesEveryOne()
    {
        var body = new Dictionary<string, object?> { ["prompt"] = "", ["size"] = "500x64", ["steps"] = 0, ["n"] = 9, ["scheduler"] = "nope", ["rng"] = "x" };

        var response = await Client.PostGenerationsAsync(body);

        var errors = (await response.ReadProblemAsync()).Errors();
        Assert.Equal(["n", "prompt", "rng", "scheduler", "size", "steps"], errors.Keys.Order());
        Assert.Contains(errors["size"], m => m.Contains("width must be a multiple of 8 but was 500", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("/v1/images/generations", false)]
    [InlineData("/v1/generate", false)]
    [InlineData("/v1/images/generations", true)]
    public async Task PostGenerations_WithSeveralValuesOfTheWrongType_NamesEveryOne(string path, bool chunked)
    {
        const string json = "{\"prompt\":\"ok\",\"n\":\"two\",\"seed\":-1,\"steps\":2.5,\"guidance_scale\":\"high\",\"size\":64,\"user\":[1]}";
        HttpContent content = chunked ? new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(json))) : new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.TransferEncodingChunked = chunked;

        var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.ReadProblemAsync()).Errors();
        Assert.Equal(["guidance_scale", "n", "seed", "size", "steps", "user"], errors.Keys.Order());
        Assert.Equal("seed must be an unsigned integer from 0 to 18446744073709551615 but was -1", Assert.Single(errors["seed"]));
        Assert.Equal("n must be an integer (32-bit) but was \"two\"", Assert.Single(errors["n"]));
    }

    [Fact]
    public async Task PostGenerations_BodyOverTheLimit_Returns413Problem()
    {
        var body = Valid();
        body["prompt"] = new string('a', 10_000);

        var response = await Client.PostGenerationsAsync(body);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await response.ReadProblemAsync();
    }

    [Fact]
    public async Task PostGenerations_ChunkedBodyOverTheLimit_Returns413Problem()
    {
        var json = "{\"prompt\":\"" + new string('a', 10_000) + "\"}";
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        content.Headers.ContentType = new("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/images/generations") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await response.ReadProblemAsync();
    }

    [Fact]
    public async Task PostGenerations_MalformedJson_Returns400Problem()
    {
        var response = await Client.PostAsync("/v1/images/generations", new StringContent("{\"prompt\":", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await response.ReadProblemAsync();
    }

    [Fact]
    public async Task PostTokenize_PromptOverTheLimit_Returns400NamingPrompt()
    {
        var response = await Client.PostAsJsonAsync("/v1/tokenize", new { prompt = new string('a', 101) });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("prompt", (await response.ReadProblemAsync()).Errors().Keys);
    }

    [Fact]
    public async Task UnknownRoute_Returns404Problem()
    {
        var response = await Client.GetAsync("/v1/nothing-here");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        await response.ReadProblemAsync();
    }
}
