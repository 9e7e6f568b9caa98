using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.Api.Sdapi;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Api;

/// <summary>
/// The worker's live latent previews outside OpenAI streaming: A1111's current_image in /sdapi/v1/progress, and the
/// opt-in preview on a job's Server-Sent Events. The engine is held mid-run (after a preview) by the probe.
/// </summary>
public sealed class LivePreviewTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task SdapiProgress_ShowsTheLatestPreviewAsCurrentImage_UnlessSkipCurrentImage()
    {
        await using var factory = new DiffusionApiFactory();
        var client = await factory.CreateReadyClientAsync();
        factory.Probe.HoldAfterPreview(step: 2);

        var generating = client.PostTxt2ImgAsync(SdapiBodies.Txt2Img().With("steps", 6).With("width", 64).With("height", 64));
        await factory.Probe.WaitForHeldCallAsync(Timeout);
        var deadline = DateTime.UtcNow + Timeout;
        JsonElement progress;
        while ((progress = await client.GetFromJsonAsync<JsonElement>("/sdapi/v1/progress?skip_current_image=false")).GetProperty("current_image").ValueKind == JsonValueKind.Null)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no current_image: {progress}");
            await Task.Delay(20);
        }
        var skipped = await client.GetFromJsonAsync<JsonElement>("/sdapi/v1/progress?skip_current_image=true");
        factory.Probe.Release();

        var preview = Convert.FromBase64String(progress.GetProperty("current_image").GetString()!);
        Assert.Equal((8, 8), Images.PngSize(preview)); // the latents' size: no VAE
        Assert.True(progress.GetProperty("state").GetProperty("sampling_step").GetInt32() >= 2);
        Assert.Equal(JsonValueKind.Null, skipped.GetProperty("current_image").ValueKind);
        Assert.Equal(HttpStatusCode.OK, (await generating.WaitAsync(Timeout)).StatusCode);
    }

    [Fact]
    public async Task JobCreatedWithPreview_HasPreviewsOnItsProgressEvents()
    {
        await using var factory = new DiffusionApiFactory();
        var client = await factory.CreateReadyClientAsync();
        factory.Probe.Hold();
        var created = await client.PostAsJsonAsync("/v1/jobs", new { prompt = "a red fox", size = "64x64", steps = 4, preview = true });
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        await factory.Probe.WaitForHeldCallAsync(Timeout);

        using var response = await client.GetAsync(created.Headers.Location + "/events", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var events = new List<(string Event, JsonElement Data)>();
        string? name = null;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line["event: ".Length..];
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            events.Add((name!, JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone()));
            // The watch is subscribed once its first event is out: now let the engine run.
            if (events.Count == 1) factory.Probe.Release();
        }

        Assert.Equal("completed", events[^1].Event);
        var previews = events.Where(e => e.Data.TryGetProperty("preview", out _)).ToList();
        Assert.NotEmpty(previews);
        Assert.All(previews, e => Assert.Equal("progress", e.Event));
        Assert.Equal((8, 8), Images.PngSize(Convert.FromBase64String(previews[0].Data.GetProperty("preview").GetString()!)));
    }

    [Fact]
    public async Task JobWithoutPreview_HasNone()
    {
        await using var factory = new DiffusionApiFactory();
        var client = await factory.CreateReadyClientAsync();
        factory.Probe.Hold();
        var created = await client.PostAsJsonAsync("/v1/jobs", new { prompt = "a red fox", size = "64x64", steps = 4 });
        await factory.Probe.WaitForHeldCallAsync(Timeout);

        var body = client.GetStringAsync(created.Headers.Location + "/events");
        await Task.Delay(200);
        factory.Probe.Release();

        Assert.DoesNotContain("\"preview\"", await body.WaitAsync(Timeout), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/generate")]
    [InlineData("/v1/images/generations")]
    public async Task Preview_OutsideJobs_Is400NamingIt(string path)
    {
        await using var factory = new DiffusionApiFactory();
        var client = await factory.CreateReadyClientAsync();

        var response = await client.PostAsJsonAsync(path, new { prompt = "a red fox", preview = true });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith($"preview is not supported by {path}", Assert.Single((await response.ReadProblemAsync()).Errors()["preview"]), StringComparison.Ordinal);
    }
}
