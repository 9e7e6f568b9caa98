using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionEngine.Pipelines;
using OpenAI;
using OpenAI.Images;
using GeneratedImage = OpenAI.Images.GeneratedImage;

namespace DiffusionApi.IntegrationTests.Api;

/// <summary>POST /v1/images/edits as OpenAI defines it (multipart/form-data), with the official .NET client too, and its 400s and 415.</summary>
public sealed class ImageEditsApiTests(ReadyServiceFixture fixture) : IClassFixture<ReadyServiceFixture>
{
    private HttpClient Client => fixture.Client;

    /// <summary>An edit form: the image (and mask) as file parts, text fields as OpenAI clients send them.</summary>
    private static MultipartFormDataContent Form(byte[]? image, byte[]? mask = null, params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        if (image is not null) form.Add(File(image), "image", "image.png");
        if (mask is not null) form.Add(File(mask), "mask", "mask.png");
        foreach (var (name, value) in fields) form.Add(new StringContent(value), name);
        return form;
    }

    private static ByteArrayContent File(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        return content;
    }

    private static readonly (string, string)[] Small = [("prompt", "a red fox"), ("size", "64x64"), ("steps", "4"), ("seed", "7")];

    private static async Task<byte[][]> ImagesOfAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data").EnumerateArray()
            .Select(d => Convert.FromBase64String(d.GetProperty("b64_json").GetString()!)).ToArray();
    }

    [Fact]
    public async Task Edit_WithATransparentArea_RepaintsOnlyThatArea_ForEachOfNImages()
    {
        // The left half is fully transparent: OpenAI's "edit here" without a mask.
        var image = TestImages.Png(64, 64, (x, y) => x < 32 ? ((byte)0, (byte)0, (byte)0, (byte)0) : ((byte)(x * 4), (byte)(y * 4), (byte)50, (byte)255));

        var response = await Client.PostAsync("/v1/images/edits", Form(image, null, ("prompt", "edit transparent"), ("size", "64x64"), ("steps", "4"), ("seed", "7"), ("n", "2")));

        var outputs = await ImagesOfAsync(response);
        Assert.Equal(2, outputs.Length);
        var input = Images.DecodePixels(image);
        foreach (var output in outputs.Select(Images.DecodePixels))
        {
            for (var y = 0; y < 64; y += 3)
            {
                for (var x = 32; x < 64; x += 3) Assert.Equal(TestImages.PixelAt(input, 64, x, y), TestImages.PixelAt(output, 64, x, y));
            }
        }
        var request = fixture.Factory.Probe.Batches.Single(b => b[0].Prompt == "edit transparent")[0];
        Assert.Equal((GenerationMode.Inpaint, MaskConvention.Transparency), (request.Mode, request.MaskConvention));
    }

    [Fact]
    public async Task Edit_WithAMask_ReadsItsTransparentPixelsAsTheAreaToEdit()
    {
        var image = TestImages.Gradient();
        var mask = TestImages.TransparencyMask(64, 64, (_, y) => y < 16);

        var response = await Client.PostAsync("/v1/images/edits", Form(image, mask, ("prompt", "edit with mask"), ("size", "64x64"), ("steps", "4"), ("strength", "0.75")));

        var output = Images.DecodePixels(Assert.Single(await ImagesOfAsync(response)));
        var input = Images.DecodePixels(image);
        for (var y = 16; y < 64; y += 5) Assert.Equal(TestImages.PixelAt(input, 64, 40, y), TestImages.PixelAt(output, 64, 40, y));
        var request = fixture.Factory.Probe.Batches.Single(b => b[0].Prompt == "edit with mask")[0];
        Assert.Equal((GenerationMode.Inpaint, MaskConvention.Transparency, 0.75), (request.Mode, request.MaskConvention, request.Strength));
    }

    [Fact]
    public async Task Edit_OfAnOpaqueImageWithoutAMask_IsImageToImage()
    {
        var response = await Client.PostAsync("/v1/images/edits", Form(TestImages.Gradient(), null, ("prompt", "edit whole"), ("steps", "4"), ("response_format", "url")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("http", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data")[0].GetProperty("url").GetString(), StringComparison.Ordinal);
        var request = fixture.Factory.Probe.Batches.Single(b => b[0].Prompt == "edit whole")[0];
        Assert.Equal(GenerationMode.ImageToImage, request.Mode);
        Assert.Equal((64, 64), (request.Width, request.Height)); // the image's own size
    }

    public static TheoryData<string, string> BadForms() => new()
    {
        // what is wrong, the field the 400 must name
        { "unknown", "foo" },
        { "not-supported", "style" },
        { "missing-image", "image" },
        { "image-as-text", "image" },
        { "two-images", "image" },
        { "undecodable", "image" },
        { "n-not-a-number", "n" },
        { "seed-negative", "seed" },
        { "repeated", "prompt" },
        { "mask-without-transparency", "mask" },
        { "mask-size", "mask" },
        { "mask-as-text", "mask" },
        { "strength", "strength" },
        { "bad-size", "size" },
    };

    [Theory]
    [MemberData(nameof(BadForms))]
    public async Task BadEdit_Is400NamingTheField(string what, string field)
    {
        var image = TestImages.Gradient();
        var form = what switch
        {
            "unknown" => Form(image, null, [.. Small, ("foo", "bar")]),
            "not-supported" => Form(image, null, [.. Small, ("style", "vivid")]),
            "missing-image" => Form(null, null, Small),
            "image-as-text" => Form(null, null, [.. Small, ("image", Convert.ToBase64String(image))]),
            "two-images" => TwoImages(image),
            "undecodable" => Form("GIF89a not really"u8.ToArray(), null, Small),
            "n-not-a-number" => Form(image, null, [.. Small, ("n", "two")]),
            "seed-negative" => Form(image, null, ("prompt", "x"), ("seed", "-1")),
            "repeated" => Form(image, null, [.. Small, ("prompt", "again")]),
            "mask-without-transparency" => Form(image, TestImages.LuminanceMask(64, 64, (x, _) => x < 32), Small),
            "mask-size" => Form(image, TestImages.TransparencyMask(32, 32, (_, _) => true), Small),
            "mask-as-text" => Form(image, null, [.. Small, ("mask", "abc")]),
            "strength" => Form(image, null, [.. Small, ("strength", "1.5")]),
            "bad-size" => Form(image, null, ("prompt", "x"), ("size", "500x500")),
            _ => throw new ArgumentOutOfRangeException(nameof(what)),
        };

        var response = await Client.PostAsync("/v1/images/edits", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.ReadProblemAsync()).Errors();
        Assert.True(errors.ContainsKey(field), $"expected an error for {field}: {string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))}");
    }

    private static MultipartFormDataContent TwoImages(byte[] image)
    {
        var form = Form(image, null, Small);
        form.Add(File(image), "image[]", "second.png");
        return form;
    }

    [Fact]
    public async Task Edit_WithAJsonBody_Is415SayingToSendMultipart()
    {
        var response = await Client.PostAsJsonAsync("/v1/images/edits", new { prompt = "x", image = "abc" });

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("multipart/form-data", (await response.ReadProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAiDotNetSdk_GenerateImageEdits_EditsThroughThisService()
    {
        var models = await Client.GetFromJsonAsync<JsonElement>("/v1/models");
        var modelId = models.GetProperty("data")[0].GetProperty("id").GetString()!;
        var options = new OpenAIClientOptions
        {
            Endpoint = new Uri(fixture.Factory.Server.BaseAddress, "/v1"),
            Transport = new HttpClientPipelineTransport(fixture.Factory.CreateClient()),
        };
        var client = new ImageClient(modelId, new ApiKeyCredential("not-checked"), options);
        var editOptions = new ImageEditOptions { Size = new GeneratedImageSize(64, 64), ResponseFormat = GeneratedImageFormat.Bytes };

        using var image = new MemoryStream(TestImages.Gradient());
        using var mask = new MemoryStream(TestImages.TransparencyMask(64, 64, (x, _) => x >= 48));
        ClientResult<GeneratedImage> one = await client.GenerateImageEditAsync(image, "image.png", "a lighthouse", mask, "mask.png", editOptions);
        using var again = new MemoryStream(TestImages.Gradient());
        ClientResult<GeneratedImageCollection> two = await client.GenerateImageEditsAsync(again, "image.png", "a lighthouse", 2, editOptions);

        Assert.Equal((64, 64), Images.PngSize(one.Value.ImageBytes.ToArray()));
        Assert.Equal(2, two.Value.Count);
        Assert.All(two.Value, generated => Assert.True(Images.IsPng(generated.ImageBytes.ToArray())));
    }
}

/// <summary>The edits endpoint's upload limits, crossed over HTTP.</summary>
public sealed class ImageEditsLimitTests
{
    [Fact]
    public async Task ImageFileOverMaxImageBytes_Is400NamingImage_AndAMaskOverMaxImagePixels_Is400NamingMask()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?>
        {
            ["Diffusion:Limits:MaxImageBytes"] = "8192",
            ["Diffusion:Limits:MaxImagePixels"] = "5000",
        });
        var client = await factory.CreateReadyClientAsync();
        var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(TestImages.Noise(64, 64)), "image", "image.png" },
            { new ByteArrayContent(TestImages.TransparencyMask(128, 128, (_, _) => true)), "mask", "mask.png" },
            { new StringContent("x"), "prompt" },
        };

        var response = await client.PostAsync("/v1/images/edits", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.ReadProblemAsync()).Errors();
        Assert.StartsWith("image must be at most 8192 bytes (Limits:MaxImageBytes)", Assert.Single(errors["image"]), StringComparison.Ordinal);
        Assert.Equal(["mask must have at most 5000 pixels (Limits:MaxImagePixels) but is 128x128 = 16384"], errors["mask"]);
    }
}
