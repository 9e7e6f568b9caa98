using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Api;

/// <summary>OpenAI's image streaming over HTTP: stream: true with partial_images answers Server-Sent Events as OpenAI's.</summary>
public sealed class ImageStreamingTests
{
    // A long batching delay: the stream subscribes to the job's previews long before the worker leases the job.
    private static DiffusionApiFactory Factory() => new(new Dictionary<string, string?> { ["Diffusion:Batching:MaxDelayMs"] = "1000" });

    private static async Task<List<(string Event, JsonElement Data)>> ReadEventsAsync(HttpResponseMessage response)
    {
        var events = new List<(string, JsonElement)>();
        string? name = null;
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line["event: ".Length..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal)) events.Add((name!, JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone()));
        }
        return events;
    }

    [Fact]
    public async Task StreamWithPartialImages_SendsLatentPreviewsThenTheImage_AsOpenAiEvents()
    {
        await using var factory = Factory();
        var client = await factory.CreateReadyClientAsync();

        var response = await client.PostGenerationsAsync(new { prompt = "a red fox", size = "64x64", steps = 6, seed = 9, stream = true, partial_images = 2, n = 2 });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = await ReadEventsAsync(response);
        Assert.Equal(["image_generation.partial_image", "image_generation.partial_image", "image_generation.completed", "image_generation.completed"],
            events.Select(e => e.Event));
        Assert.All(events, e => Assert.Equal(e.Event, e.Data.GetProperty("type").GetString()));
        for (var i = 0; i < 2; i++)
        {
            var partial = events[i].Data;
            Assert.Equal(i, partial.GetProperty("partial_image_index").GetInt32());
            // A cheap preview from the latents: an eighth of the image's size, no VAE.
            var png = Convert.FromBase64String(partial.GetProperty("b64_json").GetString()!);
            Assert.Equal((8, 8), Images.PngSize(png));
            Assert.Equal("64x64", partial.GetProperty("size").GetString());
            Assert.Equal("png", partial.GetProperty("output_format").GetString());
            Assert.Equal("opaque", partial.GetProperty("background").GetString());
            Assert.True(partial.GetProperty("created_at").GetInt64() > 0);
        }
        Assert.Equal([9UL, 10UL], events[2..].Select(e => e.Data.GetProperty("seed").GetUInt64()));
        Assert.All(events[2..], e => Assert.Equal((64, 64), Images.PngSize(Convert.FromBase64String(e.Data.GetProperty("b64_json").GetString()!))));
        Assert.Equal(0, events[2].Data.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task StreamWithoutPartialImages_SendsTheImageOnly()
    {
        await using var factory = Factory();
        var client = await factory.CreateReadyClientAsync();

        var response = await client.PostGenerationsAsync(new { prompt = "a red fox", size = "64x64", steps = 4, stream = true, output_format = "jpeg" });

        var events = await ReadEventsAsync(response);
        var completed = Assert.Single(events);
        Assert.Equal("image_generation.completed", completed.Event);
        Assert.Equal("jpeg", completed.Data.GetProperty("output_format").GetString());
    }

    [Fact]
    public async Task StreamOfAJobThatFails_EndsWithAnErrorEvent()
    {
        await using var factory = Factory();
        var client = await factory.CreateReadyClientAsync();
        factory.Probe.FailingPrompt = "breaks";

        var response = await client.PostGenerationsAsync(new { prompt = "breaks", size = "64x64", steps = 2, stream = true });

        var error = Assert.Single(await ReadEventsAsync(response));
        Assert.Equal("error", error.Event);
        Assert.Contains("simulated ONNX Runtime fault", error.Data.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    public static TheoryData<string, object, string, string> Refused => new()
    {
        { "/v1/images/generations", new { prompt = "a fox", stream = true, partial_images = 4 }, "partial_images", "partial_images must be between 0 and 3 but was 4" },
        { "/v1/images/generations", new { prompt = "a fox", stream = true, partial_images = -1 }, "partial_images", "partial_images must be between 0 and 3 but was -1" },
        { "/v1/images/generations", new { prompt = "a fox", partial_images = 2 }, "partial_images", "partial_images needs stream: true (partial images are only sent on a stream)" },
        { "/v1/images/generations", new { prompt = "a fox", stream = true, response_format = "url" }, "response_format", "response_format url cannot be streamed: a stream carries the images as b64_json" },
        { "/v1/generate", new { prompt = "a fox", stream = true }, "stream", "stream is not supported by /v1/generate; POST /v1/images/generations or /v1/images/edits stream partial images, and GET /v1/jobs/{id}/events streams a job's progress" },
        { "/v1/jobs", new { prompt = "a fox", stream = true }, "stream", "stream is not supported by /v1/jobs; POST /v1/images/generations or /v1/images/edits stream partial images, and GET /v1/jobs/{id}/events streams a job's progress" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task BadStreamingFields_Are400NamingTheField(string path, object body, string field, string message)
    {
        await using var factory = Factory();
        var client = await factory.CreateReadyClientAsync();

        var response = await client.PostAsJsonAsync(path, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (await response.ReadProblemAsync()).Errors()[field]);
    }
}
