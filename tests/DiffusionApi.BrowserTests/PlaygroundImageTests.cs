using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.BrowserTests.TestSupport;
using DiffusionEngine.Imaging;

namespace DiffusionApi.BrowserTests;

/// <summary>
/// The playground's init image, strength and inpainting mask, against the real service on the default tiny model
/// (which lists txt2img, img2img and inpaint), and hidden for a model that takes no images (tiny LCM).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class PlaygroundImageTests(BrowserFixture fixture, TxtToImgOnlyService lcm) : IClassFixture<TxtToImgOnlyService>
{
    private const int Side = 64;

    [BrowserFact]
    public async Task UploadedImage_AndAPaintedMask_AreSentWithStrength_AndTheUnpaintedPixelsComeBackExactly()
    {
        var initPng = TestImages.Gradient(Side, Side);
        await using var page = await fixture.OpenPageAsync(fixture.Open.BaseAddress);
        await page.WaitForDiscoveryAsync();
        Assert.False(await page.EvaluateAsync<bool>("document.querySelector('#init-image-group').hidden"), "tiny-sd lists img2img and inpaint, yet the init image is hidden");
        await page.FillRequestAsync("repaint the middle", size: 128, steps: 4, seed: "77");

        await page.UploadInitImageAsync(initPng, Side);
        // The output size follows the image.
        Assert.Equal(["64", "64"], await page.EvaluateAsync<string[]>("['#width', '#height'].map(s => document.querySelector(s).value)"));

        // Strength from the keyboard: six steps of 0.05 down from 0.8.
        await page.Page.FocusAsync("#strength");
        for (var i = 0; i < 6; i++) await page.Page.Keyboard.PressAsync("ArrowLeft");
        Assert.Equal("0.50", await page.TextAsync("#strength-value"));

        // One stroke across the middle with the mouse.
        await page.PaintStrokeAsync((0.3m, 0.5m), (0.7m, 0.5m));

        await page.GenerateAsync();

        // The request carried the file as a data URL, the slider's strength and the mask (white = repaint, black = keep).
        var submitted = Assert.Single(page.Requests, r => r.Method == HttpMethod.Post && r.Url.EndsWith("/v1/jobs", StringComparison.Ordinal));
        var bodyText = submitted.PostData?.ToString() ?? throw new InvalidOperationException("the POST carried no body");
        using var body = JsonDocument.Parse(bodyText);
        Assert.Equal("data:image/png;base64," + Convert.ToBase64String(initPng), body.RootElement.GetProperty("image").GetString());
        Assert.Equal(0.5, body.RootElement.GetProperty("strength").GetDouble());
        Assert.Equal("64x64", body.RootElement.GetProperty("size").GetString());
        var maskUrl = body.RootElement.GetProperty("mask").GetString()!;
        Assert.StartsWith("data:image/png;base64,", maskUrl, StringComparison.Ordinal);
        var mask = ImageDecoder.Decode(Convert.FromBase64String(maskUrl["data:image/png;base64,".Length..]));
        Assert.Equal((Side, Side), (mask.Width, mask.Height));
        Assert.Equal(255, Red(mask, 32, 32)); // on the stroke
        Assert.Equal(0, Red(mask, 32, 12)); // above it
        Assert.Equal(0, Red(mask, 2, 2));

        // Copy as curl: the body in a file by a quoted heredoc, byte for byte, and posted from it.
        var curl = await page.TextAsync("#curl");
        Assert.Contains($"cat > request.json <<'EOF'\n{bodyText}\nEOF\ncurl -sS -X POST '{fixture.Open.BaseAddress.GetLeftPart(UriPartial.Authority)}/v1/jobs'", curl, StringComparison.Ordinal);
        Assert.Contains("--data-binary @request.json", curl, StringComparison.Ordinal);
        Assert.DoesNotContain("--data-raw", curl, StringComparison.Ordinal);
        Assert.Contains("long-lines", await page.AttributeAsync("#curl", "class"), StringComparison.Ordinal);

        // The service inpainted: pixels far from the stroke are the init image's, exactly; the stroke was repainted.
        var output = await ResultImageAsync(page);
        var init = ImageDecoder.Decode(initPng);
        Assert.Equal((Side, Side), (output.Width, output.Height));
        foreach (var (px, py) in new[] { (1, 1), (62, 1), (1, 62), (62, 62) })
            Assert.Equal(Pixel(init, px, py), Pixel(output, px, py));
        Assert.NotEqual(Pixel(init, 32, 32), Pixel(output, 32, 32));
        Assert.Empty(page.ConsoleErrors);
        Assert.Empty(await page.CspViolationsAsync());
    }

    [BrowserFact]
    public async Task Mask_IsPaintedFromTheKeyboard_AndClearSendsNoMask()
    {
        await using var page = await fixture.OpenPageAsync(fixture.Open.BaseAddress);
        await page.WaitForDiscoveryAsync();
        await page.FillRequestAsync("keyboard mask", steps: 4);
        await page.UploadInitImageAsync(TestImages.Gradient(Side, Side), Side);

        // Tab from the strength slider reaches the mask; Space paints at the brush, held while arrows move it.
        await page.Page.FocusAsync("#strength");
        await page.Page.Keyboard.PressAsync("Tab");
        Assert.Equal("mask", await page.EvaluateAsync<string>("document.activeElement.id"));
        Assert.False(await page.EvaluateAsync<bool>("document.querySelector('#brush-cursor').hidden"), "the brush cursor does not show");
        await page.Page.Keyboard.DownAsync(" ");
        await page.Page.Keyboard.PressAsync("ArrowRight");
        await page.Page.Keyboard.UpAsync(" ");
        Assert.StartsWith("Painted", await page.TextAsync("#mask-state"), StringComparison.Ordinal);
        var painted = await MaskPixelAsync(page, 34, 32);
        Assert.True(painted >= 128, $"the keyboard stroke left {painted} alpha at its path");

        // Clear: nothing painted, so the request is image-to-image (an image, no mask).
        await page.Page.ClickAsync("#mask-clear");
        Assert.Equal("Nothing painted.", await page.TextAsync("#mask-state"));
        await page.GenerateAsync();
        var submitted = Assert.Single(page.Requests, r => r.Method == HttpMethod.Post && r.Url.EndsWith("/v1/jobs", StringComparison.Ordinal));
        using var body = JsonDocument.Parse(submitted.PostData!.ToString()!);
        Assert.True(body.RootElement.TryGetProperty("image", out _));
        Assert.False(body.RootElement.TryGetProperty("mask", out _), "a cleared mask was sent");
        Assert.Equal(0.8, body.RootElement.GetProperty("strength").GetDouble());
    }

    [BrowserFact]
    public async Task UseAsInitImage_TakesAGalleryImageIntoTheFileInput_AndTheNextRequestSendsIt()
    {
        await using var page = await fixture.OpenPageAsync(fixture.Open.BaseAddress);
        await page.WaitForDiscoveryAsync();
        await page.FillRequestAsync("first from noise", seed: "5150");
        await page.GenerateAsync();

        await page.Page.ClickAsync("#gallery li:first-child button.use-as-init");
        await page.WaitUntilAsync($"document.querySelector('#mask').width === {Side}", "the mask editor");

        Assert.Equal("diffusion-5150.png", await page.EvaluateAsync<string>("document.querySelector('#init-image').files[0].name"));
        Assert.Equal("init-image", await page.EvaluateAsync<string>("document.activeElement.id"));
        await page.Page.ClickAsync("#generate");
        await page.WaitUntilAsync("document.querySelectorAll('#gallery li:not(.pending) img').length === 2", "the second image");
        var second = page.Requests.Where(r => r.Method == HttpMethod.Post && r.Url.EndsWith("/v1/jobs", StringComparison.Ordinal)).Last();
        using var body = JsonDocument.Parse(submitted(second));
        var image = Convert.FromBase64String(body.RootElement.GetProperty("image").GetString()!["data:image/png;base64,".Length..]);
        Assert.Equal((Side, Side), (ImageDecoder.Decode(image).Width, ImageDecoder.Decode(image).Height));
        Assert.Contains("Seed: 5150", System.Text.Encoding.Latin1.GetString(image), StringComparison.Ordinal); // the first result's own file, infotext and all

        static string submitted(PuppeteerSharp.IRequest request) => request.PostData?.ToString() ?? throw new InvalidOperationException("no body");
    }

    [BrowserFact]
    public async Task ModelWithoutImageCapabilities_ShowsNoInitImage_AndSendsNone()
    {
        await using var page = await fixture.OpenPageAsync(lcm.Service.BaseAddress);
        await page.WaitForDiscoveryAsync();

        Assert.True(await page.EvaluateAsync<bool>("document.querySelector('#init-image-group').hidden"), "the LCM model takes no images, yet the init image shows");
        Assert.False(await page.EvaluateAsync<bool>("document.querySelector('#init-image').checkVisibility()"));
        Assert.False(await page.EvaluateAsync<bool>("document.querySelector('#mask').checkVisibility()"));
        await page.FillRequestAsync("text only", steps: 2);
        await page.GenerateAsync();
        Assert.DoesNotContain("\"image\"", await page.TextAsync("#curl"), StringComparison.Ordinal);
        Assert.True(await page.EvaluateAsync<bool>("document.querySelector('#gallery button.use-as-init').hidden"), "'Use as init image' shows for a model that takes no images");
    }

    private static (byte, byte, byte) Pixel(RgbaImage image, int x, int y)
    {
        var at = ((y * image.Width) + x) * 4;
        return (image.Pixels[at], image.Pixels[at + 1], image.Pixels[at + 2]);
    }

    private static byte Red(RgbaImage image, int x, int y) => image.Pixels[((y * image.Width) + x) * 4];

    /// <summary>The painted coverage (alpha) of the mask canvas at an image pixel.</summary>
    private static Task<int> MaskPixelAsync(PageSession page, int x, int y) =>
        page.Page.EvaluateFunctionAsync<int>("(x, y) => document.querySelector('#mask').getContext('2d').getImageData(x, y, 1, 1).data[3]", x, y);

    /// <summary>The finished job's first image, as the service stored it.</summary>
    private async Task<RgbaImage> ResultImageAsync(PageSession page)
    {
        var jobId = await page.AttributeAsync("#job-status", "data-job-id");
        using var client = fixture.Open.CreateClient();
        var job = await client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{jobId}");
        var url = job.GetProperty("data")[0].GetProperty("url").GetString()!;
        return ImageDecoder.Decode(await client.GetByteArrayAsync(url));
    }
}
