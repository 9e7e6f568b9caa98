using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DiffusionApi.IntegrationTests.Hosting;

public sealed class HealthAndStartupTests
{
    [Fact]
    public async Task Ready_IsUnhealthyUntilTheModelIsLoadedAndWarmedUp()
    {
        await using var factory = new DiffusionApiFactory(probe: new EngineProbe(holdLoading: true));
        var client = factory.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        var notReady = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        var early = await client.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, early.StatusCode);
        Assert.NotNull(early.Headers.RetryAfter);

        factory.Probe.ReleaseLoading();

        await factory.CreateReadyClientAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/models")).StatusCode);
    }

    [Fact]
    public async Task FirstStart_WithoutModelPath_CreatesAndServesTheBuiltInTinyModel()
    {
        await using var factory = new DiffusionApiFactory(useBuiltInModel: true);
        var client = await factory.CreateReadyClientAsync();

        Assert.True(File.Exists(Path.Combine(factory.DataDirectory, "models", "tiny-sd", "model_index.json")));
        var response = await client.PostGenerateAsync(Requests.Small());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(Images.IsPng(await response.Content.ReadAsByteArrayAsync()));
    }

    [Fact]
    public async Task WhenTheHostIsStopping_ReadyIsUnhealthy_AndNewJobsGet503()
    {
        await using var factory = new DiffusionApiFactory();
        var client = await factory.CreateReadyClientAsync();
        var running = await factory.HoldOnARunningJobAsync(client, TimeSpan.FromSeconds(30));

        factory.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health/ready")).StatusCode);
        var rejected = await client.PostGenerateAsync(Requests.Small(prompt: "too late"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode);
        Assert.NotNull(rejected.Headers.RetryAfter);
        Assert.Contains("shutting down", (await rejected.ReadProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        // That running and queued jobs then finish is proven on the real process (GracefulShutdownTests): the test host
        // does not keep its server up for in-flight requests the way Kestrel does.
        factory.Probe.Release();
        await running;
    }

    [Fact]
    public void InvalidConfiguration_FailsAtStartNamingTheSetting()
    {
        var error = DiffusionApiFactory.StartFailure(new Dictionary<string, string?> { ["Diffusion:Queue:Capacity"] = "0" });
        Assert.Contains("Capacity", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Optimize", "fast", "Diffusion:Model:Optimize must be off or auto")]
    [InlineData("CudaConvAlgorithmSearch", "FASTEST", "Diffusion:Model:CudaConvAlgorithmSearch must be EXHAUSTIVE, HEURISTIC or DEFAULT")]
    [InlineData("CudaArenaExtendStrategy", "grow", "Diffusion:Model:CudaArenaExtendStrategy must be kSameAsRequested or kNextPowerOfTwo")]
    public void InvalidOptimizeOrCudaSetting_FailsAtStartNamingIt(string key, string value, string expected)
    {
        var error = DiffusionApiFactory.StartFailure(new Dictionary<string, string?> { ["Diffusion:Model:" + key] = value });
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OptimizeAuto_ServesFromAnOptimisedCopyUnderTheDataDirectory()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?> { ["Diffusion:Model:Optimize"] = "auto" });
        var client = await factory.CreateReadyClientAsync();

        var response = await client.PostAsJsonAsync("/v1/generate", new { prompt = "a lighthouse", size = "64x64", steps = 2, seed = 1 });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var copies = Directory.GetDirectories(Path.Combine(factory.DataDirectory, "optimized"));
        Assert.Single(copies);
        Assert.EndsWith("-cpu-fp32-" + Path.GetFileName(copies[0]).Split('-')[^1], copies[0], StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(copies[0], "optimization.json")));
    }

    [Fact]
    public async Task Swagger_DescribesEveryEndpointWithASchemaAndAnExample()
    {
        await using var factory = new DiffusionApiFactory();
        var client = factory.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/swagger/index.html")).StatusCode);
        Assert.Equal(HttpStatusCode.MovedPermanently, (await factory.CreateClient(new() { AllowAutoRedirect = false }).GetAsync("/swagger")).StatusCode);
        using var document = JsonDocument.Parse(await client.GetStringAsync("/swagger/v1/swagger.json"));
        var paths = document.RootElement.GetProperty("paths");
        var schemas = document.RootElement.GetProperty("components").GetProperty("schemas");
        string[] expected = ["/v1/images/generations", "/v1/generate", "/v1/images/{id}", "/v1/models", "/v1/schedulers", "/v1/tokenize", "/v1/jobs", "/v1/jobs/{id}", "/v1/jobs/{id}/events", "/health/live", "/health/ready", "/metrics"];
        foreach (var (path, method) in new[] { ("/v1/jobs/{id}", "get"), ("/v1/jobs/{id}", "delete"), ("/v1/images/{id}", "get"), ("/v1/jobs/{id}/events", "get") })
            Assert.True(paths.GetProperty(path).GetProperty(method).GetProperty("responses").TryGetProperty("404", out _), $"{method} {path}: 404 undocumented");
        foreach (var path in expected)
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is missing");
            foreach (var operation in item.EnumerateObject())
            {
                var ok = operation.Value.GetProperty("responses").EnumerateObject().First(r => r.Name.StartsWith('2')).Value;
                var content = ok.GetProperty("content").EnumerateObject().First().Value;
                var schema = content.GetProperty("schema");
                Assert.True(HasExample(schema, schemas) || content.TryGetProperty("example", out _) || operation.Value.TryGetProperty("requestBody", out _) || schema.TryGetProperty("format", out _),
                    $"{operation.Name} {path}: no example");
                if (operation.Value.TryGetProperty("requestBody", out var body))
                {
                    var bodySchema = body.GetProperty("content").GetProperty("application/json").GetProperty("schema");
                    Assert.True(HasExample(bodySchema, schemas), $"{operation.Name} {path}: request body has no example");
                }
                // Every error an operation can answer is documented as problem+json with the ProblemDetails schema.
                foreach (var response in operation.Value.GetProperty("responses").EnumerateObject().Where(r => r.Name[0] is '4' or '5'))
                {
                    if (path.StartsWith("/health", StringComparison.Ordinal)) continue; // the probes answer plain text
                    Assert.True(response.Value.GetProperty("content").TryGetProperty("application/problem+json", out var problem), $"{operation.Name} {path} {response.Name}: not problem+json");
                    Assert.True(HasExample(problem.GetProperty("schema"), schemas), $"{operation.Name} {path} {response.Name}: no example");
                }
                if (operation.Value.TryGetProperty("parameters", out var parameters))
                    Assert.All(parameters.EnumerateArray(), p => Assert.True(p.TryGetProperty("example", out _), $"{path}: parameter without example"));
            }
        }
    }

    [Theory]
    [InlineData("ImageGenerationRequest")]
    [InlineData("ImageData")]
    public async Task Swagger_DescribesSeedsAsUnsigned64BitWithTheirBounds(string schemaName)
    {
        await using var factory = new DiffusionApiFactory();
        using var document = JsonDocument.Parse(await factory.CreateClient().GetStringAsync("/swagger/v1/swagger.json"));

        var seed = document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty(schemaName).GetProperty("properties").GetProperty("seed");

        Assert.Equal("uint64", seed.GetProperty("format").GetString());
        Assert.Contains("integer", seed.GetProperty("type").ToString(), StringComparison.Ordinal);
        Assert.Equal("0", seed.GetProperty("minimum").GetRawText());
        Assert.Equal("18446744073709551615", seed.GetProperty("maximum").GetRawText());
    }

    [Fact]
    public async Task Swagger_EveryJsonBodyEndpoint_DocumentsItsBadRequestAndUnsupportedMediaTypeProblems()
    {
        await using var factory = new DiffusionApiFactory();
        using var document = JsonDocument.Parse(await factory.CreateClient().GetStringAsync("/swagger/v1/swagger.json"));

        foreach (var path in new[] { "/v1/images/generations", "/v1/generate", "/v1/jobs", "/v1/tokenize" })
        {
            var responses = document.RootElement.GetProperty("paths").GetProperty(path).GetProperty("post").GetProperty("responses");
            Assert.True(responses.TryGetProperty("400", out _), $"{path}: 400 undocumented");
            Assert.True(responses.TryGetProperty("415", out _), $"{path}: 415 undocumented");
        }
    }

    private static bool HasExample(JsonElement schema, JsonElement schemas)
    {
        if (schema.TryGetProperty("example", out _) || schema.TryGetProperty("examples", out _)) return true;
        return schema.TryGetProperty("$ref", out var reference)
            && schemas.GetProperty(reference.GetString()!.Split('/')[^1]) is var target
            && (target.TryGetProperty("example", out _) || target.TryGetProperty("examples", out _));
    }
}
