using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Api.Sdapi;

/// <summary>The read-only A1111 endpoints clients call to fill their menus, POST /options and png-info.</summary>
public sealed class SdapiDiscoveryTests(ReadyServiceFixture fixture) : IClassFixture<ReadyServiceFixture>
{
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task Samplers_AndSchedulers_HaveA1111sShape()
    {
        var samplers = await Client.GetFromJsonAsync<JsonElement>("/sdapi/v1/samplers");
        var schedulers = await Client.GetFromJsonAsync<JsonElement>("/sdapi/v1/schedulers");

        var names = samplers.EnumerateArray().Select(s => s.GetProperty("name").GetString()).ToArray();
        Assert.Contains("Euler a", names);
        Assert.Contains("DPM++ 2M", names);
        Assert.All(samplers.EnumerateArray(), s => Assert.Equal(JsonValueKind.Array, s.GetProperty("aliases").ValueKind));
        Assert.Equal(["automatic", "uniform", "karras"], schedulers.EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.Equal("Karras", schedulers[2].GetProperty("label").GetString());
    }

    [Fact]
    public async Task SdModels_AndOptions_NameTheLoadedModel()
    {
        var models = await Client.GetFromJsonAsync<JsonElement>("/sdapi/v1/sd-models");
        var options = await Client.GetFromJsonAsync<JsonElement>("/sdapi/v1/options");

        var model = Assert.Single(models.EnumerateArray());
        Assert.Equal(model.GetProperty("title").GetString(), options.GetProperty("sd_model_checkpoint").GetString());
        Assert.Equal(1, options.GetProperty("CLIP_stop_at_last_layers").GetInt32());
        Assert.False(string.IsNullOrEmpty(model.GetProperty("model_name").GetString()));
    }

    [Fact]
    public async Task CmdFlags_Memory_Embeddings_Loras_Answer()
    {
        var flags = await Client.GetFromJsonAsync<JsonElement>("/sdapi/v1/cmd-flags");
        var memory = await Client.GetFromJsonAsync<JsonElement>("/sdapi/v1/memory");
        var embeddings = await Client.GetFromJsonAsync<JsonElement>("/sdapi/v1/embeddings");
        var loras = await Client.GetFromJsonAsync<JsonElement>("/sdapi/v1/loras");

        Assert.True(flags.GetProperty("api").GetBoolean());
        Assert.True(memory.GetProperty("ram").GetProperty("total").GetInt64() > 0);
        Assert.True(memory.TryGetProperty("cuda", out _));
        Assert.Empty(embeddings.GetProperty("loaded").EnumerateObject());
        Assert.Empty(embeddings.GetProperty("skipped").EnumerateObject());
        Assert.Equal(0, loras.GetArrayLength());
    }

    [Fact]
    public async Task PostOptions_TheLoadedModelAndOurValues_Are200_AnythingElse422NamingIt()
    {
        var model = (await Client.GetFromJsonAsync<JsonElement>("/sdapi/v1/options")).GetProperty("sd_model_checkpoint").GetString();

        var same = await Client.PostAsJsonAsync("/sdapi/v1/options", new Dictionary<string, object?> { ["sd_model_checkpoint"] = model, ["samples_format"] = "png" });
        var other = await Client.PostAsJsonAsync("/sdapi/v1/options", new Dictionary<string, object?> { ["sd_model_checkpoint"] = "sdxl.safetensors", ["samples_format"] = "jpg" });

        Assert.Equal(HttpStatusCode.OK, same.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);
        var fields = await SdapiBodies.ErrorFieldsAsync(other);
        Assert.Contains("sd_model_checkpoint", fields);
        Assert.Contains("samples_format", fields);
    }

    [Fact]
    public async Task PngInfo_ReadsTheInfotextOfAnImageWeMade_AndParsesIt()
    {
        var answer = await (await Client.PostTxt2ImgAsync(SdapiBodies.Txt2Img(seed: 77).With("negative_prompt", "blurry"))).Content.ReadFromJsonAsync<JsonElement>();
        var image = answer.GetProperty("images")[0].GetString();

        var response = await Client.PostAsJsonAsync("/sdapi/v1/png-info", new { image = "data:image/png;base64," + image });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var info = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(SdapiBodies.Info(answer).GetProperty("infotexts")[0].GetString(), info.GetProperty("info").GetString());
        var parameters = info.GetProperty("parameters");
        Assert.Equal("a red fox", parameters.GetProperty("Prompt").GetString());
        Assert.Equal("blurry", parameters.GetProperty("Negative prompt").GetString());
        Assert.Equal("77", parameters.GetProperty("Seed").GetString());
        Assert.Equal("64", parameters.GetProperty("Size-1").GetString());
        Assert.Equal("Euler a", parameters.GetProperty("Sampler").GetString());
    }

    [Fact]
    public async Task PngInfo_NotBase64_Is422NamingImage()
    {
        var response = await Client.PostAsJsonAsync("/sdapi/v1/png-info", new { image = "%%%" });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("image", await SdapiBodies.ErrorFieldsAsync(response));
    }
}
