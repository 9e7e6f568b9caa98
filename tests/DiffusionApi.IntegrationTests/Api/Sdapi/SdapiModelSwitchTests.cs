using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Api.Sdapi;

/// <summary>
/// A1111's checkpoint with several models: sd-models lists them, POST /options switches the checkpoint of every A1111
/// request (not /v1's default), override_settings.sd_model_checkpoint picks one for a single request.
/// </summary>
public sealed class SdapiModelSwitchTests
{
    private static DiffusionApiFactory Factory(string? maxLoaded = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Diffusion:Models:0:Name"] = "alpha",
            ["Diffusion:Models:0:Path"] = SharedTinyModel.Directory,
            ["Diffusion:Models:1:Name"] = "beta",
            ["Diffusion:Models:1:Path"] = SharedTinyModel.WithHiddenStates,
        };
        if (maxLoaded is not null) settings["Diffusion:Models:MaxLoaded"] = maxLoaded;
        return new DiffusionApiFactory(settings);
    }

    private static async Task<string> CheckpointAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/sdapi/v1/options")).GetProperty("sd_model_checkpoint").GetString()!;

    [Fact]
    public async Task SdModels_ListsEveryModel()
    {
        await using var factory = Factory();
        var client = await factory.CreateReadyClientAsync();

        var models = await client.GetFromJsonAsync<JsonElement>("/sdapi/v1/sd-models");

        Assert.Equal(["alpha", "beta"], models.EnumerateArray().Select(m => m.GetProperty("title").GetString()));
        Assert.Equal(["alpha", "beta"], models.EnumerateArray().Select(m => m.GetProperty("model_name").GetString()));
    }

    [Fact]
    public async Task SdCheckpointsLimit_IsHowManyModelsStayLoaded_AndOnlyThatValueIsANoOp()
    {
        // No bound: every configured model may be loaded at once.
        await using (var unbounded = Factory())
        {
            var client = await unbounded.CreateReadyClientAsync();
            Assert.Equal(2, (await client.GetFromJsonAsync<JsonElement>("/sdapi/v1/options")).GetProperty("sd_checkpoints_limit").GetInt32());
        }

        await using var bounded = Factory(maxLoaded: "1");
        var limited = await bounded.CreateReadyClientAsync();
        Assert.Equal(1, (await limited.GetFromJsonAsync<JsonElement>("/sdapi/v1/options")).GetProperty("sd_checkpoints_limit").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await limited.PostAsJsonAsync("/sdapi/v1/options", new Dictionary<string, object?> { ["sd_checkpoints_limit"] = 1 })).StatusCode);
        var changed = await limited.PostAsJsonAsync("/sdapi/v1/options", new Dictionary<string, object?> { ["sd_checkpoints_limit"] = 3 });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, changed.StatusCode);
        Assert.Contains("sd_checkpoints_limit", await changed.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task PostOptionsCheckpoint_SwitchesA1111Requests_NotV1Ones()
    {
        await using var factory = Factory();
        var client = await factory.CreateReadyClientAsync();
        Assert.Equal("alpha", await CheckpointAsync(client));

        // webuiapi's util_set_model sends the title as sd-models lists it (A1111 adds " [hash]"; we accept either).
        var switched = await client.PostAsJsonAsync("/sdapi/v1/options", new Dictionary<string, object?> { ["sd_model_checkpoint"] = "beta [0123456789]" });
        Assert.Equal(HttpStatusCode.OK, switched.StatusCode);
        Assert.Equal("beta", await CheckpointAsync(client));
        // As in A1111, the model is loaded when the answer comes.
        var listed = await client.GetFromJsonAsync<JsonElement>("/v1/models");
        Assert.Equal("loaded", listed.GetProperty("data")[1].GetProperty("state").GetString());

        Assert.Equal(HttpStatusCode.OK, (await client.PostTxt2ImgAsync(SdapiBodies.Txt2Img(prompt: "a1111 default"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostGenerateAsync(Requests.Small(prompt: "v1 default"))).StatusCode);

        Assert.Equal(["beta", "alpha"], factory.Probe.BatchModels);
    }

    [Fact]
    public async Task Txt2ImgOverrideSettingsCheckpoint_SelectsTheModelForThatRequestOnly()
    {
        await using var factory = Factory();
        var client = await factory.CreateReadyClientAsync();

        var body = SdapiBodies.Txt2Img(prompt: "override").With("override_settings", new Dictionary<string, object> { ["sd_model_checkpoint"] = "beta" });
        var response = await client.PostTxt2ImgAsync(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("alpha", await CheckpointAsync(client));
        Assert.Equal(HttpStatusCode.OK, (await client.PostTxt2ImgAsync(SdapiBodies.Txt2Img(prompt: "no override"))).StatusCode);
        Assert.Equal(["beta", "alpha"], factory.Probe.BatchModels);
        var infotext = SdapiBodies.Info(await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("infotexts")[0].GetString();
        Assert.Contains("Model: beta", infotext, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownCheckpoint_Is422ListingTheModels_InOptionsAndOverrideSettings()
    {
        await using var factory = Factory();
        var client = await factory.CreateReadyClientAsync();

        var options = await client.PostAsJsonAsync("/sdapi/v1/options", new Dictionary<string, object?> { ["sd_model_checkpoint"] = "gamma.safetensors" });
        var body = SdapiBodies.Txt2Img().With("override_settings", new Dictionary<string, object> { ["sd_model_checkpoint"] = "gamma.safetensors" });
        var txt2img = await client.PostTxt2ImgAsync(body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, options.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, txt2img.StatusCode);
        var detail = (await options.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail")[0];
        Assert.Equal(["body", "sd_model_checkpoint"], detail.GetProperty("loc").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal("sd_model_checkpoint must be one of 'alpha', 'beta' (GET /sdapi/v1/sd-models) but was 'gamma.safetensors'", detail.GetProperty("msg").GetString());
        Assert.Equal(["override_settings.sd_model_checkpoint"], await SdapiBodies.ErrorFieldsAsync(txt2img));
        Assert.Equal("alpha", await CheckpointAsync(client));
        Assert.Empty(factory.Probe.BatchModels);
    }
}
