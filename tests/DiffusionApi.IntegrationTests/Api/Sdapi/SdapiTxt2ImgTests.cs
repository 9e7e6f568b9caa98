using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Api.Sdapi;

/// <summary>POST /sdapi/v1/txt2img over HTTP with the bodies A1111 clients send.</summary>
public sealed class SdapiTxt2ImgTests(ReadyServiceFixture fixture) : IClassFixture<ReadyServiceFixture>
{
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task WebuiapiBody_AnswersImagesParametersAndInfo_EachPngCarriesItsInfotext()
    {
        var response = await Client.PostTxt2ImgAsync(SdapiBodies.Txt2Img(seed: 1234, batchSize: 2));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        var images = answer.GetProperty("images").EnumerateArray().Select(i => Convert.FromBase64String(i.GetString()!)).ToArray();
        Assert.Equal(2, images.Length);
        Assert.Equal("a red fox", answer.GetProperty("parameters").GetProperty("prompt").GetString());
        Assert.Equal("Euler a", answer.GetProperty("parameters").GetProperty("sampler_name").GetString());

        var info = SdapiBodies.Info(answer);
        Assert.Equal(1234, info.GetProperty("seed").GetInt64());
        Assert.Equal([1234L, 1235L], info.GetProperty("all_seeds").EnumerateArray().Select(s => s.GetInt64()));
        Assert.Equal("Euler a", info.GetProperty("sampler_name").GetString());
        Assert.Equal(2, info.GetProperty("batch_size").GetInt32());
        var infotexts = info.GetProperty("infotexts").EnumerateArray().Select(t => t.GetString()).ToArray();
        for (var i = 0; i < images.Length; i++)
        {
            Assert.True(Images.IsPng(images[i]));
            Assert.Equal((64, 64), Images.PngSize(images[i]));
            Assert.Equal(infotexts[i], Images.PngText(images[i], "parameters"));
        }
        Assert.StartsWith("a red fox\nSteps: 2, Sampler: Euler a, CFG scale: 7, Seed: 1235, Size: 64x64", infotexts[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task BatchSizeTimesNIter_GivesThatManyImages_AndSeedMinusOneDrawsOne()
    {
        var response = await Client.PostTxt2ImgAsync(SdapiBodies.Txt2Img(seed: -1, batchSize: 2, nIter: 2));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(4, answer.GetProperty("images").GetArrayLength());
        var info = SdapiBodies.Info(answer);
        var seed = info.GetProperty("seed").GetInt64();
        Assert.InRange(seed, 0, uint.MaxValue);
        Assert.Equal(Enumerable.Range(0, 4).Select(i => seed + i), info.GetProperty("all_seeds").EnumerateArray().Select(s => s.GetInt64()));
    }

    [Fact]
    public async Task SendImagesFalse_AnswersNoImages()
    {
        var answer = await (await Client.PostTxt2ImgAsync(SdapiBodies.Txt2Img().With("send_images", false))).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(0, answer.GetProperty("images").GetArrayLength());
        Assert.Single(SdapiBodies.Info(answer).GetProperty("infotexts").EnumerateArray());
    }

    [Fact]
    public async Task VariationSeed_MixesASecondNoise_AsA1111_KeepingTheSeedAndCountingUpTheSubseed()
    {
        var plain = await ImagesAsync(SdapiBodies.Txt2Img(seed: 7).With("subseed", 100));
        var otherSubseedNoStrength = await ImagesAsync(SdapiBodies.Txt2Img(seed: 7).With("subseed", 200));
        var body = SdapiBodies.Txt2Img(seed: 7, batchSize: 2).With("subseed", 100).With("subseed_strength", 0.5);
        var response = await Client.PostTxt2ImgAsync(body);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        var varied = answer.GetProperty("images").EnumerateArray().Select(i => Images.DecodePixels(Convert.FromBase64String(i.GetString()!))).ToArray();
        var info = SdapiBodies.Info(answer);

        Assert.Equal(plain, otherSubseedNoStrength); // strength 0: the subseed changes nothing
        Assert.NotEqual(plain, varied[0]);
        Assert.NotEqual(varied[0], varied[1]); // same seed, subseeds 100 and 101
        Assert.Equal([7L, 7L], info.GetProperty("all_seeds").EnumerateArray().Select(s => s.GetInt64()));
        Assert.Equal([100L, 101L], info.GetProperty("all_subseeds").EnumerateArray().Select(s => s.GetInt64()));
        Assert.Contains("Variation seed: 100, Variation seed strength: 0.5", info.GetProperty("infotexts")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeedResizeFrom_TheImagesOwnSizeChangesNothing_AnotherSizeChangesTheNoise()
    {
        var plain = await ImagesAsync(SdapiBodies.Txt2Img(seed: 9));
        var sameSize = await ImagesAsync(SdapiBodies.Txt2Img(seed: 9).With("seed_resize_from_w", 64).With("seed_resize_from_h", 64));
        var other = await ImagesAsync(SdapiBodies.Txt2Img(seed: 9).With("seed_resize_from_w", 96).With("seed_resize_from_h", 64));

        Assert.Equal(plain, sameSize);
        Assert.NotEqual(plain, other);
    }

    [Fact]
    public async Task SamplerAndSchedule_A1111Names_MapToOurSchedulers()
    {
        var answer = await (await Client.PostTxt2ImgAsync(SdapiBodies.Txt2Img().With("sampler_name", "DPM++ 2M").With("scheduler", "Karras").With("sampler_index", null)))
            .Content.ReadFromJsonAsync<JsonElement>();
        var info = SdapiBodies.Info(answer);

        Assert.Equal("DPM++ 2M", info.GetProperty("sampler_name").GetString());
        Assert.Contains("Sampler: DPM++ 2M Karras", info.GetProperty("infotexts")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OverrideSettings_TheLoadedModelAndOurOwnValues_AreAccepted()
    {
        var model = (await Client.GetFromJsonAsync<JsonElement>("/sdapi/v1/options")).GetProperty("sd_model_checkpoint").GetString();
        var body = SdapiBodies.Txt2Img().With("override_settings", new Dictionary<string, object?>
        {
            ["sd_model_checkpoint"] = model,
            ["CLIP_stop_at_last_layers"] = 1,
            ["samples_format"] = "png",
            ["randn_source"] = "NV",
        });
        var response = await Client.PostTxt2ImgAsync(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var infotext = SdapiBodies.Info(await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("infotexts")[0].GetString();
        Assert.Contains("RNG: NV", infotext, StringComparison.Ordinal);
    }

    public static TheoryData<string, object?, string> Unsupported => new()
    {
        { "enable_hr", true, "enable_hr" },
        { "restore_faces", true, "restore_faces" },
        { "tiling", true, "tiling" },
        { "script_name", "X/Y/Z plot", "script_name" },
        { "styles", new[] { "cinematic" }, "styles" },
        { "alwayson_scripts", new Dictionary<string, object> { ["ControlNet"] = new { args = new[] { new { enabled = true } } } }, "alwayson_scripts.ControlNet" },
        { "s_churn", 0.5, "s_churn" },
        { "sampler_name", "Heun", "sampler_name" },
        { "scheduler", "exponential", "scheduler" },
        { "override_settings", new Dictionary<string, object> { ["sd_model_checkpoint"] = "another.safetensors" }, "override_settings.sd_model_checkpoint" },
        { "override_settings", new Dictionary<string, object> { ["sd_vae"] = "vae-ft-mse.safetensors" }, "override_settings.sd_vae" },
        { "width", 100, "width" },
        { "batch_size", 5, "batch_size" },
        { "unknown_field", 1, "unknown_field" },
        { "seed", "not a number", "seed" },
    };

    [Theory]
    [MemberData(nameof(Unsupported))]
    public async Task WhatWeDoNotDo_Is422InFastApisShape_NamingTheField(string field, object? value, string named)
    {
        var response = await Client.PostTxt2ImgAsync(SdapiBodies.Txt2Img().With(field, value));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains(named, await SdapiBodies.ErrorFieldsAsync(response));
    }

    [Fact]
    public async Task EveryBadField_IsNamed_InOne422()
    {
        var response = await Client.PostTxt2ImgAsync(SdapiBodies.Txt2Img().With("enable_hr", true).With("restore_faces", true).With("steps", 0));

        var fields = await SdapiBodies.ErrorFieldsAsync(response);
        Assert.Contains("enable_hr", fields);
        Assert.Contains("restore_faces", fields);
        Assert.Contains("steps", fields);
    }

    private async Task<byte[]> ImagesAsync(object body)
    {
        var response = await Client.PostTxt2ImgAsync(body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        return Images.DecodePixels(Convert.FromBase64String(answer.GetProperty("images")[0].GetString()!));
    }
}
