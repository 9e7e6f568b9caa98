using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionApi.Testing;
using Xunit;

namespace DiffusionApi.IntegrationTests.ClientSdks;

/// <summary>The official OpenAI JS SDK (`openai` on npm) against the real service process.</summary>
public sealed class OpenAiJsSdkTests
{
    [JsClientSdkFact]
    public async Task ImagesGenerate_ReturnsImagesWithSeedsJavaScriptReadsExactly()
    {
        await using var service = await ServiceProcess.StartAsync(SharedTinyModel.Directory);
        var body = """{"prompt":"a red apple","n":2,"size":"64x64","steps":2,"response_format":"b64_json"}""";

        var (exitCode, output, error) = await JsClientSdk.RunAsync("images-generate.mjs", null, service.BaseAddress.ToString().TrimEnd('/'), body);

        Assert.True(exitCode == 0, $"node exited with {exitCode}: {error}");
        using var result = JsonDocument.Parse(output);
        var data = result.RootElement.GetProperty("data");
        Assert.Equal(2, data.GetArrayLength());
        foreach (var image in data.EnumerateArray())
        {
            Assert.True(image.GetProperty("seed_is_safe_integer").GetBoolean(), $"seed {image.GetProperty("seed")} is not a safe JS integer");
            Assert.True(image.GetProperty("bytes").GetInt32() > 0);
        }
        Assert.Equal(data[0].GetProperty("seed").GetUInt64() + 1, data[1].GetProperty("seed").GetUInt64());
    }

    [JsClientSdkFact]
    public async Task ImagesEdit_WithImageAndMaskFiles_ReturnsTheEditedImages()
    {
        await using var service = await ServiceProcess.StartAsync(SharedTinyModel.Directory);
        var folder = Directory.CreateTempSubdirectory("js-edit-").FullName;
        try
        {
            var image = Path.Combine(folder, "image.png");
            var mask = Path.Combine(folder, "mask.png");
            await File.WriteAllBytesAsync(image, TestImages.Gradient());
            await File.WriteAllBytesAsync(mask, TestImages.TransparencyMask(64, 64, (x, _) => x < 32));
            var parameters = """{"prompt":"a red apple","n":2,"size":"64x64","steps":2,"seed":5,"response_format":"b64_json"}""";

            var (exitCode, output, error) = await JsClientSdk.RunAsync("images-edit.mjs", null, service.BaseAddress.ToString().TrimEnd('/'), image, mask, parameters);

            Assert.True(exitCode == 0, $"node exited with {exitCode}: {error}");
            using var result = JsonDocument.Parse(output);
            var data = result.RootElement.GetProperty("data");
            Assert.Equal(2, data.GetArrayLength());
            Assert.All(data.EnumerateArray(), d => Assert.True(d.GetProperty("png").GetBoolean()));
            Assert.Equal([5UL, 6UL], data.EnumerateArray().Select(d => d.GetProperty("seed").GetUInt64()));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [JsClientSdkFact]
    public async Task ImagesGenerateStream_YieldsPartialImagesThenTheCompletedImage()
    {
        // A long batching delay: the stream subscribes to the job's previews long before a worker leases it.
        await using var service = await ServiceProcess.StartAsync(SharedTinyModel.Directory, new Dictionary<string, string> { ["Diffusion:Batching:MaxDelayMs"] = "1000" });
        var body = """{"prompt":"a red apple","size":"64x64","steps":6,"seed":3,"partial_images":2}""";

        var (exitCode, output, error) = await JsClientSdk.RunAsync("images-stream.mjs", null, service.BaseAddress.ToString().TrimEnd('/'), body);

        Assert.True(exitCode == 0, $"node exited with {exitCode}: {error}");
        var events = JsonDocument.Parse(output).RootElement.GetProperty("events").EnumerateArray().ToArray();
        Assert.Equal(["image_generation.partial_image", "image_generation.partial_image", "image_generation.completed"], events.Select(e => e.GetProperty("type").GetString()));
        Assert.Equal([0, 1], events[..2].Select(e => e.GetProperty("partial_image_index").GetInt32()));
        Assert.All(events, e => Assert.True(e.GetProperty("png").GetBoolean()));
        Assert.Equal(3UL, events[2].GetProperty("seed").GetUInt64());
    }

    [JsClientSdkFact]
    public async Task ImagesEditStream_YieldsImageEditEvents()
    {
        await using var service = await ServiceProcess.StartAsync(SharedTinyModel.Directory, new Dictionary<string, string> { ["Diffusion:Batching:MaxDelayMs"] = "1000" });
        var folder = Directory.CreateTempSubdirectory("js-edit-stream-").FullName;
        try
        {
            var image = Path.Combine(folder, "image.png");
            await File.WriteAllBytesAsync(image, TestImages.Gradient());
            var body = """{"prompt":"a red apple","size":"64x64","steps":6,"strength":1,"partial_images":1}""";

            var (exitCode, output, error) = await JsClientSdk.RunAsync("images-stream.mjs", null, service.BaseAddress.ToString().TrimEnd('/'), body, image);

            Assert.True(exitCode == 0, $"node exited with {exitCode}: {error}");
            var events = JsonDocument.Parse(output).RootElement.GetProperty("events").EnumerateArray().ToArray();
            Assert.Equal(["image_edit.partial_image", "image_edit.completed"], events.Select(e => e.GetProperty("type").GetString()));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
