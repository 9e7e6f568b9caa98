using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionApi.IntegrationTests.Api;

public sealed class DiscoveryApiTests(ReadyServiceFixture fixture) : IClassFixture<ReadyServiceFixture>
{
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task GetModels_ListsTheLoadedModelInOpenAiShape()
    {
        var models = await Client.GetFromJsonAsync<JsonElement>("/v1/models");

        Assert.Equal("list", models.GetProperty("object").GetString());
        var model = models.GetProperty("data")[0];
        Assert.Equal("model", model.GetProperty("object").GetString());
        Assert.False(string.IsNullOrEmpty(model.GetProperty("id").GetString()));
        Assert.Equal(77, model.GetProperty("max_prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task GetModels_ReportsWhatARequestThatLeavesFieldsOutGets()
    {
        var model = (await Client.GetFromJsonAsync<JsonElement>("/v1/models")).GetProperty("data")[0];
        var defaults = model.GetProperty("defaults");

        // The model's own defaults (the tiny UNet's sample_size 32 × 8 = 256; SD's 20 steps at 7.5) ...
        var registry = fixture.Factory.Services.GetRequiredService<DiffusionApi.Engine.ModelRegistry>();
        var engine = registry.StatusOf(registry.Default).Info!.Defaults;
        Assert.Equal((engine.Width, engine.Height, engine.Steps, (double)engine.GuidanceScale),
            (defaults.GetProperty("width").GetInt32(), defaults.GetProperty("height").GetInt32(), defaults.GetProperty("steps").GetInt32(), defaults.GetProperty("guidance_scale").GetDouble()));
        Assert.Equal((256, 256, 20, 7.5), (engine.Width, engine.Height, engine.Steps, (double)engine.GuidanceScale));

        // ... and what a request that leaves them out runs with.
        var response = await Client.PostAsJsonAsync("/v1/generate", new { prompt = "defaults probe", seed = 1 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var request = fixture.Factory.Probe.Batches.Single(b => b[0].Prompt == "defaults probe")[0];
        Assert.Equal((256, 256, 20, 7.5f), (request.Width, request.Height, request.Steps, request.GuidanceScale));
    }

    [Fact]
    public async Task GetSchedulers_ListsEverySchedulerARequestMayName()
    {
        var schedulers = await Client.GetFromJsonAsync<JsonElement>("/v1/schedulers");

        var ids = schedulers.GetProperty("data").EnumerateArray().Select(s => s.GetProperty("id").GetString()).ToArray();
        Assert.NotEmpty(ids);
        Assert.False(string.IsNullOrEmpty(schedulers.GetProperty("default").GetString()));
        foreach (var id in ids)
        {
            var response = await Client.PostGenerationsAsync(new { prompt = "x", size = "64x64", steps = 2, seed = 1, scheduler = id });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }
}
