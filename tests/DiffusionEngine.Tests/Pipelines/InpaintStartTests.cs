using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;
using DiffusionEngine.TinyModel;
using DiffusionEngine.Tests.TestSupport;

namespace DiffusionEngine.Tests.Pipelines;

/// <summary>A1111's inpainting_fill 2 (latent noise) and 3 (latent nothing): what the masked latents start from.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class InpaintStartTests(TinyModelFixture models)
{
    private const int Left = 16, Top = 24, Right = 40, Bottom = 40;

    private static bool Inside(int x, int y) => x >= Left && x < Right && y >= Top && y < Bottom;

    public static TheoryData<TinyModelPreset> Presets => new() { TinyModelPreset.Tiny, TinyModelPreset.TinyInpaint };

    private static GenerationRequest Request(InpaintStart start, double strength) => new()
    {
        Prompt = "a red fox in the snow", Seed = 42, Width = 64, Height = 64, Steps = 10, Scheduler = "euler_a", Strength = strength,
        InitImage = TestImages.Gradient(64, 64, 0),
        Mask = TestImages.RectangleMask(64, 64, Left, Top, Right, Bottom),
        InpaintStart = start,
    };

    [Theory]
    [MemberData(nameof(Presets))]
    public void BelowStrengthOne_EachStartGivesItsOwnMaskedArea_AndKeepsTheRestExactly(TinyModelPreset preset)
    {
        var pipeline = models.PipelineFor(preset);
        var original = pipeline.Generate([Request(InpaintStart.Original, 0.6)])[0];
        var noise = pipeline.Generate([Request(InpaintStart.LatentNoise, 0.6)])[0];
        var nothing = pipeline.Generate([Request(InpaintStart.LatentNothing, 0.6)])[0];

        var init = Request(InpaintStart.Original, 0.6).InitImage!;
        foreach (var image in new[] { noise, nothing })
        {
            Assert.Equal(0, TestImages.MaxDifference(image.Rgb, init, (x, y) => !Inside(x, y)));
            Assert.True(TestImages.MaxDifference(image.Rgb, RgbaImage.FromRgb(64, 64, original.Rgb), Inside) > 0, "the start should change the masked area");
        }
        Assert.True(TestImages.MaxDifference(noise.Rgb, RgbaImage.FromRgb(64, 64, nothing.Rgb), Inside) > 0);
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void AtStrengthOne_EveryStartIsNoise(TinyModelPreset preset)
    {
        var pipeline = models.PipelineFor(preset);
        var original = pipeline.Generate([Request(InpaintStart.Original, 1)])[0];

        Assert.Equal(original.Rgb, pipeline.Generate([Request(InpaintStart.LatentNoise, 1)])[0].Rgb);
        Assert.Equal(original.Rgb, pipeline.Generate([Request(InpaintStart.LatentNothing, 1)])[0].Rgb);
    }

    [Fact]
    public void AStartOtherThanOriginal_WithoutAMask_IsRejected()
    {
        var request = Request(InpaintStart.LatentNothing, 0.6) with { Mask = null };

        var error = Assert.Throws<ArgumentException>(() => models.PipelineFor(TinyModelPreset.Tiny).Generate([request]));
        Assert.Contains("not inpainting", error.Message, StringComparison.Ordinal);
    }
}
