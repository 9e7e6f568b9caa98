using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionEngine.Pipelines;

namespace DiffusionApi.IntegrationTests.Api;

/// <summary>
/// JSON clients' images: <c>image</c> / <c>mask</c> as base64 or data URLs and <c>strength</c> on /v1/images/generations,
/// /v1/generate and /v1/jobs, carried through the job into the engine; and every way such a request is a 400.
/// </summary>
public sealed class ImageInputTests(ReadyServiceFixture fixture) : IClassFixture<ReadyServiceFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private HttpClient Client => fixture.Client;

    private static Dictionary<string, object?> Body(string prompt = "a red fox", int steps = 4, string? size = "64x64") => new()
    {
        ["prompt"] = prompt,
        ["steps"] = steps,
        ["seed"] = 42,
        ["size"] = size,
    };

    [Fact]
    public async Task PostGenerations_WithABase64Image_RunsImageToImageAtTheGivenStrength()
    {
        var body = Body(prompt: "img2img base64");
        body["image"] = Convert.ToBase64String(TestImages.Gradient());
        body["strength"] = 0.5;

        var response = await Client.PostAsJsonAsync("/v1/images/generations", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var png = Convert.FromBase64String((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data")[0].GetProperty("b64_json").GetString()!);
        Assert.Equal((64, 64), Images.PngSize(png));
        var request = Assert.Single(fixture.Factory.Probe.Batches.Single(b => b[0].Prompt == "img2img base64"));
        Assert.Equal(GenerationMode.ImageToImage, request.Mode);
        Assert.Equal(0.5, request.Strength);
        Assert.Equal((64, 64), (request.InitImage!.Width, request.InitImage.Height));
    }

    [Fact]
    public async Task PostGenerations_WithoutSize_UsesTheImagesSizeRoundedDownToMultiplesOf8()
    {
        var body = Body(prompt: "own size", size: null);
        body["image"] = TestImages.DataUrl(TestImages.Gradient(83, 70));

        var response = await Client.PostAsJsonAsync("/v1/images/generations", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var png = Convert.FromBase64String((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data")[0].GetProperty("b64_json").GetString()!);
        Assert.Equal((80, 64), Images.PngSize(png));
    }

    [Fact]
    public async Task PostGenerate_WithADataUrlImageAndMask_InpaintsAndKeepsTheMaskedOutPixelsExactly()
    {
        var init = TestImages.Gradient();
        var body = Body(prompt: "inpaint data url");
        body["image"] = TestImages.DataUrl(init);
        body["mask"] = TestImages.DataUrl(TestImages.LuminanceMask(64, 64, (x, _) => x < 32));

        var response = await Client.PostAsJsonAsync("/v1/generate", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var output = Images.DecodePixels(await response.Content.ReadAsByteArrayAsync());
        var input = Images.DecodePixels(init);
        // Paste-back: every pixel the mask keeps (x ≥ 32, black) is exactly as sent.
        for (var y = 0; y < 64; y++)
        {
            for (var x = 32; x < 64; x++) Assert.Equal(TestImages.PixelAt(input, 64, x, y), TestImages.PixelAt(output, 64, x, y));
        }
        var request = Assert.Single(fixture.Factory.Probe.Batches.Single(b => b[0].Prompt == "inpaint data url"));
        Assert.Equal(GenerationMode.Inpaint, request.Mode);
        Assert.Equal(MaskConvention.Luminance, request.MaskConvention);
    }

    [Fact]
    public async Task PostJobs_WithAnImage_QueuesTheImageInTheJobAndSucceeds()
    {
        var body = Body(prompt: "async img2img");
        body["image"] = Convert.ToBase64String(TestImages.Gradient());
        body["strength"] = 0.75;

        var accepted = await Client.PostAsJsonAsync("/v1/jobs", body);

        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var location = accepted.Headers.Location!.ToString();
        var deadline = DateTime.UtcNow + Timeout;
        JsonElement job;
        while ((job = await Client.GetFromJsonAsync<JsonElement>(location)).GetProperty("status").GetString() is "queued" or "running")
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the job did not finish: {job}");
            await Task.Delay(20);
        }
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        var request = Assert.Single(fixture.Factory.Probe.Batches.Single(b => b[0].Prompt == "async img2img"));
        Assert.Equal(0.75, request.Strength);
        Assert.Equal(Images.DecodePixels(TestImages.Gradient()), request.InitImage!.Pixels);
    }

    [Fact]
    public async Task GetModels_ShowsKindCapabilitiesAndDefaults()
    {
        var model = (await Client.GetFromJsonAsync<JsonElement>("/v1/models")).GetProperty("data")[0];

        Assert.Equal("sd", model.GetProperty("kind").GetString());
        Assert.Equal(["txt2img", "img2img", "inpaint"], model.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
        Assert.True(model.GetProperty("defaults").GetProperty("steps").GetInt32() > 0);
    }

    public static TheoryData<string, string, object?, string> BadImageRequests() => new()
    {
        // endpoint, field to set, its value, the field the 400 must name
        { "/v1/images/generations", "image", "not base64!", "image" },
        { "/v1/generate", "image", "data:image/png,rawbytes", "image" },
        { "/v1/jobs", "image", Convert.ToBase64String("hello, not an image"u8.ToArray()), "image" },
        { "/v1/images/generations", "image", Convert.ToBase64String(TestImages.Gradient().AsSpan(0, 100).ToArray()), "image" }, // truncated PNG
        { "/v1/images/generations", "image", "", "image" },
        { "/v1/images/generations", "mask", Convert.ToBase64String(TestImages.Gradient()), "mask" }, // a mask without an image
        { "/v1/images/generations", "strength", 0.5, "strength" }, // strength without an image
    };

    [Theory]
    [MemberData(nameof(BadImageRequests))]
    public async Task BadImageInput_Is400NamingTheField(string endpoint, string field, object? value, string named)
    {
        var body = Body();
        body[field] = value;

        var response = await Client.PostAsJsonAsync(endpoint, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.ReadProblemAsync()).Errors();
        Assert.True(errors.ContainsKey(named), $"expected an error for {named}: {string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))}");
    }

    public static TheoryData<double, int> BadStrengths() => new()
    {
        { 0, 4 },
        { -0.5, 4 },
        { 1.5, 4 },
        { 0.2, 2 }, // ⌊2·0.2⌋ = 0: no step would run
    };

    [Theory]
    [MemberData(nameof(BadStrengths))]
    public async Task StrengthOutsideTheRangeOrLeavingNoStep_Is400NamingStrength(double strength, int steps)
    {
        var body = Body(steps: steps);
        body["image"] = Convert.ToBase64String(TestImages.Gradient());
        body["strength"] = strength;

        var response = await Client.PostAsJsonAsync("/v1/images/generations", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var message = Assert.Single((await response.ReadProblemAsync()).Errors()["strength"]);
        Assert.Contains("strength", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAllBlackMask_Is400NamingMask_BeforeAnyJobIsQueued()
    {
        var body = Body(prompt: "black mask");
        body["image"] = Convert.ToBase64String(TestImages.Gradient());
        body["mask"] = Convert.ToBase64String(TestImages.LuminanceMask(64, 64, (_, _) => false));

        var response = await Client.PostAsJsonAsync("/v1/generate", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("mask marks nothing to repaint", Assert.Single((await response.ReadProblemAsync()).Errors()["mask"]), StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Factory.Probe.PromptsSeen, p => p == "black mask");
    }

    [Fact]
    public async Task MaskOfAnotherSize_Is400NamingMask()
    {
        var body = Body();
        body["image"] = Convert.ToBase64String(TestImages.Gradient(64, 64));
        body["mask"] = Convert.ToBase64String(TestImages.LuminanceMask(64, 72, (_, _) => true));

        var response = await Client.PostAsJsonAsync("/v1/images/generations", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["mask must be the same size as image (64x64) but was 64x72"], (await response.ReadProblemAsync()).Errors()["mask"]);
    }

    [Fact]
    public async Task AnImageSmallerThanTheSizeLimits_WithoutSize_Is400SayingTheSizeCameFromTheImage()
    {
        var body = Body(size: null);
        body["image"] = Convert.ToBase64String(TestImages.Gradient(40, 70));

        var response = await Client.PostAsJsonAsync("/v1/images/generations", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["width must be between 64 and 1024 but was 40 (the size of image 40x70 rounded down to multiples of 8, used as no size was sent; send size)"],
            (await response.ReadProblemAsync()).Errors()["size"]);
    }

    [Fact]
    public async Task AnImageOverMaxRequestBodyBytes_IsAccepted_BecauseImageEndpointsAllowTheImageLimit()
    {
        // 160×160 noise: about 77 KB of PNG, 100 KB as base64, over the 64 KiB MaxRequestBodyBytes.
        var body = Body(prompt: "large upload");
        body["image"] = Convert.ToBase64String(TestImages.Noise(160, 160));

        var response = await Client.PostAsJsonAsync("/v1/images/generations", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

/// <summary>The upload limits, each crossed over HTTP, and a model that cannot take images.</summary>
public sealed class ImageInputLimitTests
{
    private static DiffusionApiFactory Create(string key, string value) => new(new Dictionary<string, string?> { [key] = value });

    [Fact]
    public async Task ImageOverMaxImageBytes_Is400NamingTheFieldAndTheSetting()
    {
        await using var factory = Create("Diffusion:Limits:MaxImageBytes", "4096");
        var client = await factory.CreateReadyClientAsync();
        var body = new Dictionary<string, object?> { ["prompt"] = "x", ["size"] = "64x64", ["steps"] = 2, ["image"] = Convert.ToBase64String(TestImages.Noise(64, 64)) };

        var response = await client.PostAsJsonAsync("/v1/images/generations", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var message = Assert.Single((await response.ReadProblemAsync()).Errors()["image"]);
        Assert.Contains("Limits:MaxImageBytes", message, StringComparison.Ordinal);
        Assert.StartsWith("image must be at most 4096 bytes", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BodyOverTheImageEndpointsLimit_Is413()
    {
        await using var factory = Create("Diffusion:Limits:MaxImageBytes", "4096");
        var client = await factory.CreateReadyClientAsync();
        // MaxRequestBodyBytes (64 KiB) + two 4096-byte images as base64 (2 × 5464): a 200 KB body is over.
        var body = new Dictionary<string, object?> { ["prompt"] = "x", ["image"] = new string('A', 200_000) };

        var response = await client.PostAsJsonAsync("/v1/images/generations", body);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("Limits:MaxImageBytes", (await response.ReadProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImageDecodingToMoreThanMaxImagePixels_Is400BeforeItIsDecoded()
    {
        await using var factory = Create("Diffusion:Limits:MaxImagePixels", "100000");
        var client = await factory.CreateReadyClientAsync();
        // A 2048×2048 one-colour PNG: a few KB that would decode to 16 MB (a small decompression bomb).
        var bomb = TestImages.Png(2048, 2048, (_, _) => (10, 20, 30, 255));
        Assert.True(bomb.Length < 64 * 1024, $"the PNG is {bomb.Length} bytes");
        var body = new Dictionary<string, object?> { ["prompt"] = "x", ["size"] = "64x64", ["steps"] = 2, ["image"] = Convert.ToBase64String(bomb) };

        var response = await client.PostAsJsonAsync("/v1/images/generations", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["image must have at most 100000 pixels (Limits:MaxImagePixels) but is 2048x2048 = 4194304"], (await response.ReadProblemAsync()).Errors()["image"]);
    }

    [Fact]
    public async Task AnImageLargerThanTheSizeLimits_WithoutSize_IsScaledDownKeepingItsAspectRatio()
    {
        await using var factory = Create("Diffusion:Limits:MaxWidth", "128");
        var client = await factory.CreateReadyClientAsync();
        // 200×100 → × 0.64 (MaxWidth 128) → 128×64.
        var body = new Dictionary<string, object?> { ["prompt"] = "scaled", ["steps"] = 2, ["image"] = Convert.ToBase64String(TestImages.Gradient(200, 100)) };

        var response = await client.PostAsJsonAsync("/v1/generate", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((128, 64), Images.PngSize(await response.Content.ReadAsByteArrayAsync()));
    }

    [Fact]
    public async Task ImageRequestToAModelWithoutAVaeEncoder_Is400SayingWhy()
    {
        await using var factory = Create("Diffusion:Model:Path", SharedTinyModel.WithoutVaeEncoder);
        var client = await factory.CreateReadyClientAsync();
        var body = new Dictionary<string, object?> { ["prompt"] = "x", ["size"] = "64x64", ["steps"] = 2, ["image"] = Convert.ToBase64String(TestImages.Gradient()) };

        var response = await client.PostAsJsonAsync("/v1/images/generations", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var message = Assert.Single((await response.ReadProblemAsync()).Errors()["image"]);
        Assert.Contains("cannot run img2img", message, StringComparison.Ordinal);
        Assert.Contains("vae_encoder", message, StringComparison.Ordinal);
        var model = (await client.GetFromJsonAsync<JsonElement>("/v1/models")).GetProperty("data")[0];
        Assert.Equal(["txt2img"], model.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
    }
}
