using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;

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

        Assert.Equal(512, defaults.GetProperty("width").GetInt32());
        Assert.Equal(512, defaults.GetProperty("height").GetInt32());
        Assert.Equal(20, defaults.GetProperty("steps").GetInt32());
        Assert.Equal(7.5, defaults.GetProperty("guidance_scale").GetDouble());
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
