#pragma warning disable MEAI001 // IImageGenerator is experimental in Microsoft.Extensions.AI
using System.Drawing;
using DiffusionEngine.AI;
using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Tests.Pipelines;
using DiffusionEngine.TinyModel;
using Microsoft.Extensions.AI;

namespace DiffusionEngine.Tests.AI;

/// <summary>Microsoft.Extensions.AI's IImageGenerator over the real engine (the tiny model), as docs/dotnet.md shows it.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class DiffusionImageGeneratorTests(TinyModelFixture models)
{
    [Fact]
    public async Task DocsSample_GeneratesPngDataContent()
    {
        var pipeline = models.Pipeline;
        var outputFolder = Directory.CreateTempSubdirectory("dotnet-sample-").FullName;
        // docs/dotnet.md sample "in-process": begin
        using IImageGenerator generator = new DiffusionImageGenerator(pipeline);
        var response = await generator.GenerateImagesAsync("a lighthouse at dusk", new ImageGenerationOptions
        {
            ImageSize = new Size(64, 64),
            Count = 2,
            MediaType = "image/png",
            AdditionalProperties = new()
            {
                [DiffusionImageOptions.Steps] = 4,
                [DiffusionImageOptions.GuidanceScale] = 7.5,
                [DiffusionImageOptions.Seed] = 42,
                [DiffusionImageOptions.Scheduler] = "euler_a",
            },
        });
        var index = 0;
        foreach (var image in response.Contents.OfType<DataContent>())
            await File.WriteAllBytesAsync(Path.Combine(outputFolder, $"lighthouse-{index++}.png"), image.Data.ToArray());
        // docs/dotnet.md sample "in-process": end

        Assert.Equal(2, Directory.GetFiles(outputFolder, "lighthouse-*.png").Length);
        Directory.Delete(outputFolder, recursive: true);

        var images = response.Contents.Cast<DataContent>().ToArray();
        Assert.Equal(2, images.Length);
        Assert.All(images, i => Assert.Equal("image/png", i.MediaType));
        // The same pixels as the engine's own call with those values (image i with seed + i).
        var request = new GenerationRequest { Prompt = "a lighthouse at dusk", Width = 64, Height = 64, Steps = 4, GuidanceScale = 7.5f, Seed = 42, Scheduler = "euler_a" };
        var direct = pipeline.Generate([request, request with { Seed = 43 }]);
        for (var i = 0; i < 2; i++)
        {
            var decoded = ImageDecoder.Decode(images[i].Data.Span);
            Assert.Equal((64, 64), (decoded.Width, decoded.Height));
            Assert.Equal(direct[i].Rgb, ToRgb(decoded));
        }
    }

    [Theory]
    [InlineData("image/jpeg")]
    [InlineData("image/webp")]
    public async Task MediaType_PicksTheEncoding(string mediaType)
    {
        using var generator = new DiffusionImageGenerator(models.Pipeline);

        var response = await generator.GenerateImagesAsync("a fox", Small(mediaType));

        var image = Assert.IsType<DataContent>(Assert.Single(response.Contents));
        Assert.Equal(mediaType, image.MediaType);
        Assert.Equal((64, 64), (ImageDecoder.Decode(image.Data.Span).Width, ImageDecoder.Decode(image.Data.Span).Height));
    }

    [Fact]
    public async Task ModelId_SelectsAPipelineByItsModelName()
    {
        var sdxl = models.PipelineFor(TinyModelPreset.TinySdxl);
        using var generator = new DiffusionImageGenerator(models.Pipeline, sdxl);
        var options = Small();
        options.ModelId = sdxl.Model.Name;

        var response = await generator.GenerateImagesAsync("a fox", options);

        var generated = Assert.IsAssignableFrom<IReadOnlyList<GeneratedImage>>(response.RawRepresentation);
        Assert.Equal(sdxl.Generate([generated[0].Request])[0].Rgb, generated[0].Rgb);
        Assert.Equal(models.Pipeline.Model.Name, generator.GetService<ImageGeneratorMetadata>()!.DefaultModelId);
    }

    [Fact]
    public async Task AnOriginalImage_IsImageToImage()
    {
        using var generator = new DiffusionImageGenerator(models.Pipeline);
        var source = ImageEncoder.EncodeRgb(Enumerable.Range(0, 64 * 64 * 3).Select(i => (byte)(i % 251)).ToArray(), 64, 64, ImageFormat.Png);
        var options = Small();
        options.AdditionalProperties![DiffusionImageOptions.Strength] = 0.5;

        var response = await generator.EditImageAsync(new DataContent(source, "image/png"), "a fox", options);

        var generated = Assert.IsAssignableFrom<IReadOnlyList<GeneratedImage>>(response.RawRepresentation);
        Assert.NotNull(generated[0].Request.InitImage);
        Assert.Equal(0.5, generated[0].Request.Strength);
    }

    public static TheoryData<Action<ImageGenerationOptions>, string> Refused => new()
    {
        { o => o.ModelId = "sdxl-base", "ModelId must be one of" },
        { o => o.MediaType = "image/gif", "MediaType must be image/png, image/jpeg or image/webp but was 'image/gif'" },
        { o => o.ResponseFormat = ImageGenerationResponseFormat.Uri, "ResponseFormat must be Data" },
        { o => o.Count = 0, "Count must be at least 1 but was 0" },
        { o => o.AdditionalProperties!["cfg_scale"] = 7, "AdditionalProperties['cfg_scale'] is not an option of this generator" },
        { o => o.AdditionalProperties!["seed"] = -1, "seed must be a whole number ≥ 0" },
        { o => o.AdditionalProperties!["strength"] = 0.5, "strength needs an original image" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task WhatItCannotHonour_IsAnArgumentExceptionNamingIt(Action<ImageGenerationOptions> change, string message)
    {
        using var generator = new DiffusionImageGenerator(models.Pipeline);
        var options = Small();
        change(options);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => generator.GenerateImagesAsync("a fox", options));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    private static ImageGenerationOptions Small(string mediaType = "image/png") => new()
    {
        ImageSize = new Size(64, 64),
        MediaType = mediaType,
        AdditionalProperties = new() { [DiffusionImageOptions.Steps] = 2, [DiffusionImageOptions.Seed] = 1 },
    };

    private static byte[] ToRgb(RgbaImage image)
    {
        var rgb = new byte[image.Width * image.Height * 3];
        for (var p = 0; p < image.Width * image.Height; p++)
        {
            rgb[3 * p] = image.Pixels[4 * p];
            rgb[3 * p + 1] = image.Pixels[4 * p + 1];
            rgb[3 * p + 2] = image.Pixels[4 * p + 2];
        }
        return rgb;
    }
}
