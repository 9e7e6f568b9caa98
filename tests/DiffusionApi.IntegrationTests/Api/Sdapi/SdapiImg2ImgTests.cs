using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionEngine.Pipelines;

namespace DiffusionApi.IntegrationTests.Api.Sdapi;

/// <summary>POST /sdapi/v1/img2img over HTTP with the bodies A1111 clients (webuiapi) send, every field present.</summary>
public sealed class SdapiImg2ImgTests(ReadyServiceFixture fixture) : IClassFixture<ReadyServiceFixture>
{
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task WebuiapiBody_RunsImageToImage_AndAnswersLikeA1111()
    {
        var response = await Client.PostImg2ImgAsync(SdapiBodies.Img2Img(TestImages.Gradient(), prompt: "sdapi img2img", seed: 99));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        var image = Convert.FromBase64String(Assert.Single(answer.GetProperty("images").EnumerateArray()).GetString()!);
        Assert.Equal((64, 64), Images.PngSize(image));
        // include_init_images false: A1111 leaves the uploads out of the echoed parameters.
        Assert.Equal(JsonValueKind.Null, answer.GetProperty("parameters").GetProperty("init_images").ValueKind);
        Assert.Equal(0.75, answer.GetProperty("parameters").GetProperty("denoising_strength").GetDouble());
        var info = SdapiBodies.Info(answer);
        Assert.Equal(0.75, info.GetProperty("denoising_strength").GetDouble());
        Assert.Equal(99, info.GetProperty("seed").GetInt64());
        var infotext = Assert.Single(info.GetProperty("infotexts").EnumerateArray()).GetString()!;
        Assert.Contains("Denoising strength: 0.75", infotext, StringComparison.Ordinal);
        Assert.Equal(infotext, Images.PngText(image, "parameters"));
        var request = Assert.Single(fixture.Factory.Probe.Batches.Single(b => b[0].Prompt == "sdapi img2img"));
        Assert.Equal((GenerationMode.ImageToImage, 0.75), (request.Mode, request.Strength));
    }

    [Fact]
    public async Task WebuiapiInpaintBody_RepaintsTheWhiteArea_AndKeepsTheRestExactly()
    {
        var init = TestImages.Gradient();
        var body = SdapiBodies.Img2Img(init, TestImages.LuminanceMask(64, 64, (_, y) => y < 24), prompt: "sdapi inpaint")
            .With("mask_blur", 0).With("include_init_images", true);

        var response = await Client.PostImg2ImgAsync(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        var output = Images.DecodePixels(Convert.FromBase64String(answer.GetProperty("images")[0].GetString()!));
        var input = Images.DecodePixels(init);
        for (var y = 24; y < 64; y++)
        {
            for (var x = 0; x < 64; x += 7) Assert.Equal(TestImages.PixelAt(input, 64, x, y), TestImages.PixelAt(output, 64, x, y));
        }
        Assert.Equal(JsonValueKind.Array, answer.GetProperty("parameters").GetProperty("init_images").ValueKind); // include_init_images true
        var request = Assert.Single(fixture.Factory.Probe.Batches.Single(b => b[0].Prompt == "sdapi inpaint"));
        Assert.Equal((GenerationMode.Inpaint, MaskConvention.Luminance, 0), (request.Mode, request.MaskConvention, request.MaskBlur));
    }

    [Fact]
    public async Task MaskBlur_ReachesTheEngine()
    {
        var body = SdapiBodies.Img2Img(TestImages.Gradient(), TestImages.LuminanceMask(64, 64, (x, _) => x < 20), prompt: "sdapi blur").With("mask_blur", 3);

        var response = await Client.PostImg2ImgAsync(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, Assert.Single(fixture.Factory.Probe.Batches.Single(b => b[0].Prompt == "sdapi blur")).MaskBlur);
    }

    [Fact]
    public async Task MaskOptions_WithoutAMask_AreIgnoredAsA1111IgnoresThem()
    {
        var response = await Client.PostImg2ImgAsync(SdapiBodies.Img2Img(TestImages.Gradient(), webuiapiMaskDefaults: true).With("inpainting_mask_invert", 7));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static TheoryData<string, object?, string> Unsupported() => new()
    {
        // field, value, the field the 422 names
        { "resize_mode", 1, "resize_mode" },
        { "resize_mode", 7, "resize_mode" },
        { "init_images", Array.Empty<string>(), "init_images" },
        { "init_images", null, "init_images" },
        { "init_images", new[] { "data:image/png;base64,AAAA", "data:image/png;base64,AAAA" }, "init_images" },
        { "init_images", new[] { "data:image/png;base64,bm90IGFuIGltYWdl" }, "init_images" },
        { "initial_noise_multiplier", 0.5, "initial_noise_multiplier" },
        { "latent_mask", "data:image/png;base64,AAAA", "latent_mask" },
        { "denoising_strength", 0.0, "denoising_strength" },
        { "denoising_strength", 1.5, "denoising_strength" },
        { "enable_hr", false, "enable_hr" }, // a txt2img field: unknown here
    };

    [Theory]
    [MemberData(nameof(Unsupported))]
    public async Task UnsupportedOrInvalidImg2ImgField_Is422NamingIt(string field, object? value, string named)
    {
        var response = await Client.PostImg2ImgAsync(SdapiBodies.Img2Img(TestImages.Gradient()).With(field, value));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains(named, await SdapiBodies.ErrorFieldsAsync(response));
    }

    public static TheoryData<string, object?, string> UnsupportedWithMask() => new()
    {
        { "inpainting_fill", 9, "inpainting_fill" },
        { "inpaint_full_res_padding", -1, "inpaint_full_res_padding" },
        { "inpainting_mask_invert", 2, "inpainting_mask_invert" },
        { "mask_round", false, "mask_round" },
        { "mask_blur", -1, "mask_blur" },
        { "mask", "data:image/png;base64,bm90IGFuIGltYWdl", "mask" },
    };

    [Theory]
    [MemberData(nameof(UnsupportedWithMask))]
    public async Task UnsupportedOrInvalidMaskField_Is422NamingIt(string field, object? value, string named)
    {
        var body = SdapiBodies.Img2Img(TestImages.Gradient(), TestImages.LuminanceMask(64, 64, (x, _) => x < 20)).With(field, value);

        var response = await Client.PostImg2ImgAsync(body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains(named, await SdapiBodies.ErrorFieldsAsync(response));
    }

    [Fact]
    public async Task LatentNoiseFill_AtFullStrength_IsWhatTheEngineDoes_AndAccepted()
    {
        var body = SdapiBodies.Img2Img(TestImages.Gradient(), TestImages.LuminanceMask(64, 64, (x, _) => x < 20))
            .With("inpainting_fill", 2).With("denoising_strength", 1.0);

        var response = await Client.PostImg2ImgAsync(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task DifferentMaskBlurXAndY_Is422()
    {
        var body = SdapiBodies.Img2Img(TestImages.Gradient(), TestImages.LuminanceMask(64, 64, (x, _) => x < 20));
        body.Remove("mask_blur");
        body["mask_blur_x"] = 2;
        body["mask_blur_y"] = 6;

        var response = await Client.PostImg2ImgAsync(body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal(["mask_blur_x"], await SdapiBodies.ErrorFieldsAsync(response));
    }

    [Fact]
    public async Task MaskOfAnotherSize_Is422NamingMask()
    {
        var body = SdapiBodies.Img2Img(TestImages.Gradient(), TestImages.LuminanceMask(32, 32, (_, _) => true));

        var response = await Client.PostImg2ImgAsync(body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal(["mask"], await SdapiBodies.ErrorFieldsAsync(response));
    }
}
