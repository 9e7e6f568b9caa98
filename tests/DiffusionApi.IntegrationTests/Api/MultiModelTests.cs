using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Api;

/// <summary>
/// Several models at once (Diffusion:Models): selection by <c>model</c>, the list with states, loading on demand within
/// MaxLoaded (least recently used idle model unloaded), switching while jobs wait, A1111's checkpoint. The models are
/// real tiny model folders: the shared one and its hidden-states export (same weights, a different folder).
/// </summary>
public sealed class MultiModelTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static DiffusionApiFactory Factory(int maxLoaded, params string[] names)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Diffusion:Models:MaxLoaded"] = maxLoaded.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Diffusion:Batching:MaxDelayMs"] = "0",
        };
        for (var i = 0; i < names.Length; i++)
        {
            settings[$"Diffusion:Models:{i}:Name"] = names[i];
            settings[$"Diffusion:Models:{i}:Path"] = i % 2 == 0 ? SharedTinyModel.Directory : SharedTinyModel.WithHiddenStates;
        }
        return new DiffusionApiFactory(settings);
    }

    private static async Task<Dictionary<string, JsonElement>> ModelsAsync(HttpClient client)
    {
        var list = await client.GetFromJsonAsync<JsonElement>("/v1/models");
        return list.GetProperty("data").EnumerateArray().ToDictionary(m => m.GetProperty("id").GetString()!, m => m.Clone());
    }

    private static string StateOf(Dictionary<string, JsonElement> models, string name) => models[name].GetProperty("state").GetString()!;

    private static async Task GenerateAsync(HttpClient client, string model, string prompt = "a red fox")
    {
        var body = new Dictionary<string, object?> { ["prompt"] = prompt, ["size"] = "64x64", ["steps"] = 2, ["seed"] = 1, ["model"] = model };
        var response = await client.PostGenerateAsync(body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{model}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    [Fact]
    public async Task GetModels_ListsEveryModelWithStateKindAndCapabilities_TheDefaultLoadedAtStart()
    {
        await using var factory = Factory(0, "alpha", "beta");
        var client = await factory.CreateReadyClientAsync();

        var models = await ModelsAsync(client);

        Assert.Equal(["alpha", "beta"], models.Keys);
        Assert.Equal("loaded", StateOf(models, "alpha"));
        Assert.True(models["alpha"].GetProperty("default").GetBoolean());
        Assert.Equal("sd", models["alpha"].GetProperty("kind").GetString());
        Assert.Contains("txt2img", models["alpha"].GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
        // Not loaded yet: what it is becomes known on its first load.
        Assert.Equal("unloaded", StateOf(models, "beta"));
        Assert.False(models["beta"].GetProperty("default").GetBoolean());
        Assert.Equal(JsonValueKind.Null, models["beta"].GetProperty("kind").ValueKind);

        await GenerateAsync(client, "beta");

        models = await ModelsAsync(client);
        Assert.Equal("loaded", StateOf(models, "beta"));
        Assert.Equal("sd", models["beta"].GetProperty("kind").GetString());
        Assert.Equal(["load alpha", "load beta"], factory.Probe.ModelEvents);
        Assert.Equal(["beta"], factory.Probe.BatchModels);
    }

    [Fact]
    public async Task ModelField_SelectsTheModel_AndNoneGetsTheDefault()
    {
        await using var factory = Factory(0, "alpha", "beta");
        var client = await factory.CreateReadyClientAsync();

        await GenerateAsync(client, "BETA", "named in other case");
        var response = await client.PostGenerationsAsync(Requests.Small(prompt: "no model"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        Assert.Equal(["beta", "alpha"], factory.Probe.BatchModels);
    }

    [Theory]
    [InlineData("/v1/images/generations")]
    [InlineData("/v1/generate")]
    [InlineData("/v1/jobs")]
    [InlineData("/v1/tokenize")]
    public async Task UnknownModel_Is400NamingTheValueAndListingTheModels(string path)
    {
        await using var factory = Factory(0, "alpha", "beta");
        var client = await factory.CreateReadyClientAsync();

        object body = path == "/v1/tokenize" ? new { prompt = "a red fox", model = "gamma" } : new { prompt = "a red fox", size = "64x64", steps = 2, model = "gamma" };
        var response = await client.PostAsJsonAsync(path, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var message = Assert.Single((await response.ReadProblemAsync()).Errors()["model"]);
        Assert.Equal("model must be one of 'alpha', 'beta' (GET /v1/models) but was 'gamma'", message);
        Assert.Empty(factory.Probe.BatchModels);
    }

    [Fact]
    public async Task GetSchedulers_WithAnUnknownModel_Is400()
    {
        await using var factory = Factory(0, "alpha", "beta");
        var client = await factory.CreateReadyClientAsync();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/schedulers?model=beta")).StatusCode);
        var response = await client.GetAsync("/v1/schedulers?model=gamma");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'gamma'", Assert.Single((await response.ReadProblemAsync()).Errors()["model"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxLoaded_UnloadsTheLeastRecentlyUsedModel()
    {
        await using var factory = Factory(2, "alpha", "beta", "gamma");
        var client = await factory.CreateReadyClientAsync();

        await GenerateAsync(client, "beta");
        await GenerateAsync(client, "alpha"); // alpha is now the most recently used
        await GenerateAsync(client, "gamma"); // a third model: beta, the least recently used, makes room

        var models = await ModelsAsync(client);
        Assert.Equal("loaded", StateOf(models, "alpha"));
        Assert.Equal("unloaded", StateOf(models, "beta"));
        Assert.Equal("loaded", StateOf(models, "gamma"));
        Assert.Equal(["load alpha", "load beta", "unload beta", "load gamma"], factory.Probe.ModelEvents);
        // What beta is stays known after it is unloaded.
        Assert.Equal("sd", models["beta"].GetProperty("kind").GetString());
        Assert.Equal(["beta", "alpha", "gamma"], factory.Probe.BatchModels);
    }

    [Fact]
    public async Task SwitchingModelsWhileJobsAreQueued_UnderMaxLoadedOne_FinishesEveryJob()
    {
        await using var factory = Factory(1, "alpha", "beta");
        var client = await factory.CreateReadyClientAsync();
        // Each model has loaded once (so requests for it know what it is); alpha is loaded now.
        await GenerateAsync(client, "beta");
        await GenerateAsync(client, "alpha");

        factory.Probe.Hold();
        var running = await SubmitAsync(client, "alpha", "alpha running");
        await factory.Probe.WaitForHeldCallAsync(Timeout);
        var queued = new List<(string Model, string Location)>();
        foreach (var (model, i) in new[] { ("beta", 1), ("alpha", 2), ("beta", 3), ("alpha", 4), ("beta", 5) })
        {
            queued.Add((model, await SubmitAsync(client, model, $"{model} {i}")));
        }
        // beta cannot load while alpha's batch holds the only slot: alpha stays loaded until that batch ends.
        Assert.Equal("loaded", StateOf(await ModelsAsync(client), "alpha"));
        factory.Probe.Release();

        foreach (var location in queued.Select(q => q.Location).Prepend(running))
        {
            var job = await JobsApiTests.WaitForStatusAsync(client, location, "succeeded");
            Assert.Equal("succeeded", job.GetProperty("status").GetString());
        }
        // Every engine batch ran one model's jobs only, on that model (the first two were the set-up generations).
        var batches = factory.Probe.Batches.Skip(2).ToList();
        var models = factory.Probe.BatchModels.Skip(2).ToList();
        for (var i = 0; i < batches.Count; i++)
        {
            Assert.All(batches[i], request => Assert.StartsWith(models[i] + " ", request.Prompt, StringComparison.Ordinal));
        }
        Assert.Equal(6, batches.Sum(b => b.Count));
        // With one slot, each switch unloaded the other model first.
        var events = factory.Probe.ModelEvents;
        for (var i = 1; i < events.Count; i++)
        {
            if (events[i].StartsWith("load ", StringComparison.Ordinal)) Assert.StartsWith("unload ", events[i - 1], StringComparison.Ordinal);
        }
    }

    private static async Task<string> SubmitAsync(HttpClient client, string model, string prompt)
    {
        var response = await client.PostAsJsonAsync("/v1/jobs", new { prompt, size = "64x64", steps = 2, seed = 1, model });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return response.Headers.Location!.ToString();
    }

    [Fact]
    public async Task Readiness_StaysUpWhenTheDefaultModelIsUnloadedToMakeRoom()
    {
        await using var factory = Factory(1, "alpha", "beta");
        var client = await factory.CreateReadyClientAsync();

        await GenerateAsync(client, "beta");

        Assert.Equal("unloaded", StateOf(await ModelsAsync(client), "alpha"));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public void ModelPathAndModelsList_BothSet_FailsAtStartNamingBoth()
    {
        var error = DiffusionApiFactory.StartFailure(new Dictionary<string, string?>
        {
            ["Diffusion:Models:0:Name"] = "alpha",
            ["Diffusion:Model:Path"] = SharedTinyModel.Directory,
        });

        Assert.Contains("Set either Diffusion:Model:Path (one model) or the list Diffusion:Models (several), not both", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("alpha", "ALPHA", "Diffusion:Models:1:Name 'ALPHA' is used by an earlier entry")]
    [InlineData("alpha", "no spaces", "Diffusion:Models:1:Name must be 1 to 64 letters")]
    public void BadModelNames_FailAtStartNamingTheSetting(string first, string second, string expected)
    {
        var error = DiffusionApiFactory.StartFailure(new Dictionary<string, string?>
        {
            ["Diffusion:Models:0:Name"] = first,
            ["Diffusion:Models:1:Name"] = second,
        });

        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void MorePreloadedModelsThanMaxLoaded_FailsAtStart()
    {
        var error = DiffusionApiFactory.StartFailure(new Dictionary<string, string?>
        {
            ["Diffusion:Models:MaxLoaded"] = "1",
            ["Diffusion:Models:0:Name"] = "alpha",
            ["Diffusion:Models:1:Name"] = "beta",
            ["Diffusion:Models:1:Preload"] = "true",
        });

        Assert.Contains("Diffusion:Models:MaxLoaded is 1 but 2 models load at start", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PreloadedModel_IsLoadedWhenTheServiceIsReady()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?>
        {
            ["Diffusion:Models:0:Name"] = "alpha",
            ["Diffusion:Models:0:Path"] = SharedTinyModel.Directory,
            ["Diffusion:Models:1:Name"] = "beta",
            ["Diffusion:Models:1:Path"] = SharedTinyModel.WithHiddenStates,
            ["Diffusion:Models:1:Preload"] = "true",
        });
        var client = await factory.CreateReadyClientAsync();

        var models = await ModelsAsync(client);

        Assert.Equal("loaded", StateOf(models, "beta"));
        Assert.Equal(["load alpha", "load beta"], factory.Probe.ModelEvents);
    }

    [Fact]
    public async Task ModelThatFailsToLoad_FailsItsRequestWith503NamingIt_OthersKeepWorking()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-model-" + Guid.NewGuid().ToString("N"));
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?>
        {
            ["Diffusion:Models:0:Name"] = "alpha",
            ["Diffusion:Models:0:Path"] = SharedTinyModel.Directory,
            ["Diffusion:Models:1:Name"] = "broken",
            ["Diffusion:Models:1:Path"] = missing,
        });
        var client = await factory.CreateReadyClientAsync();

        var response = await client.PostGenerateAsync(new { prompt = "a red fox", size = "64x64", steps = 2, model = "broken" });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.StartsWith("the model 'broken' failed to load: ", (await response.ReadProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        var models = await ModelsAsync(client);
        Assert.Equal("failed", StateOf(models, "broken"));
        Assert.Contains(missing, models["broken"].GetProperty("error").GetString(), StringComparison.Ordinal);
        await GenerateAsync(client, "alpha");
    }

    [SkippableFact]
    public async Task OnRedis_EachModelHasItsOwnStream_AndJobsOfBothModelsRun()
    {
        var server = await RedisServer.Shared;
        var prefix = "models-" + Guid.NewGuid().ToString("N")[..10];
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?>
        {
            ["Diffusion:Scaleout:Backend"] = "Redis",
            ["Diffusion:Scaleout:Redis"] = server.ConnectionString,
            ["Diffusion:Scaleout:KeyPrefix"] = prefix,
            ["Diffusion:Scaleout:PollIntervalMs"] = "100",
            ["Diffusion:Models:MaxLoaded"] = "1",
            ["Diffusion:Models:0:Name"] = "alpha",
            ["Diffusion:Models:0:Path"] = SharedTinyModel.Directory,
            ["Diffusion:Models:1:Name"] = "beta",
            ["Diffusion:Models:1:Path"] = SharedTinyModel.WithHiddenStates,
        });
        var client = await factory.CreateReadyClientAsync();

        await GenerateAsync(client, "beta", "beta on redis");
        await GenerateAsync(client, "alpha", "alpha on redis");

        Assert.Equal(["beta", "alpha"], factory.Probe.BatchModels);
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
        var streams = (await redis.GetDatabase().SetMembersAsync($"{prefix}:streams")).Select(s => s.ToString()).Order();
        Assert.Equal([$"{prefix}:stream:alpha", $"{prefix}:stream:beta"], streams);
    }
}
