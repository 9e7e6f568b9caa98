using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Headers;
using DiffusionApi.IntegrationTests.TestSupport;
using OpenAI;
using OpenAI.Images;

namespace DiffusionApi.IntegrationTests.Api;

public sealed class ApiKeyTests(ApiKeyTests.Fixture fixture) : IClassFixture<ApiKeyTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        public DiffusionApiFactory Factory { get; } = new(new Dictionary<string, string?>
        {
            ["Diffusion:ApiKeys:0"] = "first-key",
            ["Diffusion:ApiKeys:1"] = "second-key",
        });

        public async Task InitializeAsync() => await Factory.CreateReadyClientAsync();
        public async Task DisposeAsync() => await Factory.DisposeAsync();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong-key")]
    [InlineData("Bearer first-key-but-longer")]
    [InlineData("Basic Zmlyc3Qta2V5")]
    public async Task V1Request_WithoutAValidKey_Returns401Problem(string? authorization)
    {
        var client = fixture.Factory.CreateClient();
        if (authorization is not null) client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);

        var response = await client.PostGenerateAsync(Requests.Small());

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        await response.ReadProblemAsync();
    }

    [Fact]
    public async Task V1Request_WithAnyConfiguredKey_AsBearerOrXApiKey_IsServed()
    {
        var bearer = fixture.Factory.CreateClient();
        bearer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "second-key");
        var header = fixture.Factory.CreateClient();
        header.DefaultRequestHeaders.Add("X-Api-Key", "first-key");

        Assert.Equal(HttpStatusCode.OK, (await bearer.PostGenerateAsync(Requests.Small())).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await header.GetAsync("/v1/models")).StatusCode);
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    [InlineData("/metrics")]
    [InlineData("/swagger/v1/swagger.json")]
    public async Task ProbesMetricsAndApiDescription_NeedNoKey(string path)
    {
        var response = await fixture.Factory.CreateClient().GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task OpenAiDotNetSdk_SendsItsKeyAndIsServed()
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = new Uri(fixture.Factory.Server.BaseAddress, "/v1"),
            Transport = new HttpClientPipelineTransport(fixture.Factory.CreateClient()),
        };
        var client = new ImageClient("tiny-sd", new ApiKeyCredential("first-key"), options);

        var result = await client.GenerateImageAsync("a boat", new ImageGenerationOptions { Size = new GeneratedImageSize(64, 64), ResponseFormat = GeneratedImageFormat.Bytes });

        Assert.True(Images.IsPng(result.Value.ImageBytes.ToArray()));
    }
}
