using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;

namespace DiffusionApi.IntegrationTests.Api.Sdapi;

/// <summary>
/// POST /sdapi/v1/img2img inpainting with webuiapi's mask options: inpainting_fill 0 (fill), inpaint_full_res ("only
/// masked", with its padding) and inpainting_mask_invert, over HTTP with every field present.
/// </summary>
public sealed class SdapiInpaintingTests(ReadyServiceFixture fixture) : IClassFixture<ReadyServiceFixture>
{
    private HttpClient Client => fixture.Client;

    // A gradient with a green square under the mask, so what the engine starts from shows whether it was filled.
    private static byte[] GradientWithGreen(int width, int height, Func<int, int, bool> green) =>
        TestImages.Png(width, height, (x, y) => green(x, y)
            ? ((byte)0, (byte)255, (byte)0, (byte)255)
            : ((byte)(x * 255 / (width - 1)), (byte)(y * 255 / (height - 1)), (byte)96, (byte)255));

    private GenerationRequest EngineRequest(string prompt) => Assert.Single(fixture.Factory.Probe.Batches.Single(b => b[0].Prompt == prompt));

    private static async Task<RgbaImage> OnlyImageAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        return ImageDecoder.Decode(Convert.FromBase64String(Assert.Single(answer.GetProperty("images").EnumerateArray()).GetString()!));
    }

    [Fact]
    public async Task WebuiapiMaskDefaults_InpaintOnlyTheMaskedCrop_AndAnswerAtTheInitImagesSize()
    {
        // 96×64 init, a 16×16 mask at (40, 20); processed at 64×64: fill, only masked, padding 0, mask_blur 4.
        static bool Masked(int x, int y) => x is >= 40 and < 56 && y is >= 20 and < 36;
        var init = GradientWithGreen(96, 64, Masked);
        var body = SdapiBodies.Img2Img(init, TestImages.LuminanceMask(96, 64, Masked), prompt: "sdapi only masked", webuiapiMaskDefaults: true);

        var output = await OnlyImageAsync(await Client.PostImg2ImgAsync(body));

        Assert.Equal((96, 64), (output.Width, output.Height));
        var input = ImageDecoder.Decode(init);
        for (var y = 0; y < 64; y++)
        {
            for (var x = 0; x < 96; x++)
            {
                // Beyond the blur's reach (3σ = 12 pixels) every pixel is the init image's, exactly.
                if (x is >= 28 and < 68 && y is >= 8 and < 48) continue;
                Assert.Equal(TestImages.PixelAt(input.Pixels, 96, x, y), TestImages.PixelAt(output.Pixels, 96, x, y));
            }
        }
        // The engine ran the crop around the mask at 64×64, the mask blurred already, the green under it filled.
        var request = EngineRequest("sdapi only masked");
        Assert.Equal((GenerationMode.Inpaint, 64, 64, 0), (request.Mode, request.Width, request.Height, request.MaskBlur));
        Assert.Equal((64, 64), (request.InitImage!.Width, request.InitImage.Height));
        // The fill goes through the blurred mask (A1111's latent_mask), which keeps ~9 % of the original at the centre
        // here, so the centre is green mixed with the gradient around it, not pure green.
        var centre = TestImages.PixelAt(request.InitImage.Pixels, 64, 32, 32);
        Assert.True(centre.R > 20 && centre.B > 20, $"the masked centre was not filled from its surroundings: {centre}");
        Assert.InRange(TestImages.PixelAt(request.Mask!.Pixels, 64, 32, 32).R, (byte)200, (byte)254); // blurred: not quite white
        Assert.Equal(0, TestImages.PixelAt(request.Mask.Pixels, 64, 0, 0).R);
    }

    [Fact]
    public async Task OnlyMasked_WithPaddingBeyondTheImage_CropsTheWholeImage()
    {
        static bool Masked(int x, int y) => x is >= 8 and < 16 && y is >= 8 and < 16;
        var init = TestImages.Gradient();
        var body = SdapiBodies.Img2Img(init, TestImages.LuminanceMask(64, 64, Masked), prompt: "sdapi padding", webuiapiMaskDefaults: true)
            .With("inpaint_full_res_padding", 1000).With("inpainting_fill", 1).With("mask_blur", 0);

        var output = await OnlyImageAsync(await Client.PostImg2ImgAsync(body));

        Assert.Equal((64, 64), (output.Width, output.Height));
        var input = ImageDecoder.Decode(init);
        for (var y = 0; y < 64; y++)
        {
            for (var x = 0; x < 64; x++)
            {
                if (!Masked(x, y)) Assert.Equal(TestImages.PixelAt(input.Pixels, 64, x, y), TestImages.PixelAt(output.Pixels, 64, x, y));
            }
        }
        // The crop is the whole image: the engine got the init image's own pixels (inpainting_fill 1 keeps them).
        Assert.Equal(input.Pixels, EngineRequest("sdapi padding").InitImage!.Pixels);
    }

    [Fact]
    public async Task FillOnTheWholePicture_PaintsTheMaskedAreaWithItsSurroundings_AndKeepsTheRest()
    {
        static bool Masked(int x, int y) => x is >= 20 and < 40 && y is >= 20 and < 40;
        var init = GradientWithGreen(64, 64, Masked);
        var body = SdapiBodies.Img2Img(init, TestImages.LuminanceMask(64, 64, Masked), prompt: "sdapi fill")
            .With("inpainting_fill", 0).With("mask_blur", 0);

        var output = await OnlyImageAsync(await Client.PostImg2ImgAsync(body));

        var input = ImageDecoder.Decode(init);
        var start = EngineRequest("sdapi fill").InitImage!;
        for (var y = 0; y < 64; y++)
        {
            for (var x = 0; x < 64; x++)
            {
                if (Masked(x, y))
                {
                    Assert.True(TestImages.PixelAt(start.Pixels, 64, x, y).G < 200, $"({x}, {y}) still green where the engine starts");
                    continue;
                }
                Assert.Equal(TestImages.PixelAt(input.Pixels, 64, x, y), TestImages.PixelAt(start.Pixels, 64, x, y));
                Assert.Equal(TestImages.PixelAt(input.Pixels, 64, x, y), TestImages.PixelAt(output.Pixels, 64, x, y));
            }
        }
    }

    [Theory]
    [InlineData(1, InpaintStart.Original)]
    [InlineData(2, InpaintStart.LatentNoise)]
    [InlineData(3, InpaintStart.LatentNothing)]
    public async Task LatentFills_ReachTheEngine_AndKeepTheUnmaskedPixels(int fill, InpaintStart start)
    {
        var init = TestImages.Gradient();
        var prompt = $"sdapi latent fill {fill}";
        var body = SdapiBodies.Img2Img(init, TestImages.LuminanceMask(64, 64, (x, _) => x < 20), prompt: prompt)
            .With("inpainting_fill", fill).With("mask_blur", 0);

        var output = await OnlyImageAsync(await Client.PostImg2ImgAsync(body));

        var input = ImageDecoder.Decode(init);
        for (var y = 0; y < 64; y++)
        {
            for (var x = 20; x < 64; x++) Assert.Equal(TestImages.PixelAt(input.Pixels, 64, x, y), TestImages.PixelAt(output.Pixels, 64, x, y));
        }
        Assert.Equal(start, EngineRequest(prompt).InpaintStart);
    }

    [Fact]
    public async Task MaskInvert_RepaintsTheBlackArea_AndKeepsTheWhiteOneExactly()
    {
        var init = TestImages.Gradient();
        var body = SdapiBodies.Img2Img(init, TestImages.LuminanceMask(64, 64, (_, y) => y < 24), prompt: "sdapi invert")
            .With("inpainting_mask_invert", 1).With("mask_blur", 0);

        var output = await OnlyImageAsync(await Client.PostImg2ImgAsync(body));

        var input = ImageDecoder.Decode(init);
        for (var y = 0; y < 24; y++)
        {
            for (var x = 0; x < 64; x++) Assert.Equal(TestImages.PixelAt(input.Pixels, 64, x, y), TestImages.PixelAt(output.Pixels, 64, x, y));
        }
        var mask = EngineRequest("sdapi invert").Mask!;
        Assert.Equal((0, 255), (TestImages.PixelAt(mask.Pixels, 64, 5, 10).R, TestImages.PixelAt(mask.Pixels, 64, 5, 40).R));
    }

    [Fact]
    public async Task MaskInvert_OfAnAllWhiteMask_Is422NamingIt()
    {
        var body = SdapiBodies.Img2Img(TestImages.Gradient(), TestImages.LuminanceMask(64, 64, (_, _) => true), webuiapiMaskDefaults: true)
            .With("inpainting_mask_invert", 1);

        var response = await Client.PostImg2ImgAsync(body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal(["inpainting_mask_invert"], await SdapiBodies.ErrorFieldsAsync(response));
    }
}
