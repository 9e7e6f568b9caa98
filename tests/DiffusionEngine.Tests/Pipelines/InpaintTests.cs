using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Pipelines.Steps;
using DiffusionEngine.TinyModel;
using DiffusionEngine.Tests.TestSupport;

namespace DiffusionEngine.Tests.Pipelines;

/// <summary>
/// Inpainting on the tiny models, with a 9-channel inpainting UNet (tiny-inpaint) and with the legacy latent blending of
/// any other UNet (tiny): kept pixels, mask conventions and blur, determinism, batching, strength.
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class InpaintTests(TinyModelFixture models)
{
    // The area to repaint: a 24×16 rectangle at (16, 24) of a 64×64 image.
    private const int Left = 16, Top = 24, Right = 40, Bottom = 40;

    private static bool Inside(int x, int y) => x >= Left && x < Right && y >= Top && y < Bottom;

    public static TheoryData<TinyModelPreset> Presets => new() { TinyModelPreset.Tiny, TinyModelPreset.TinyInpaint };

    private static GenerationRequest Request(ulong seed = 42, int variant = 0) => new()
    {
        Prompt = "a red fox in the snow", Seed = seed, Width = 64, Height = 64, Steps = 4, Scheduler = "euler_a",
        InitImage = TestImages.Gradient(64, 64, variant),
        Mask = TestImages.RectangleMask(64, 64, Left, Top, Right, Bottom),
    };

    [Theory]
    [MemberData(nameof(Presets))]
    public void Generate_WithPasteBack_KeepsEveryUnmaskedPixelExactlyAsSent(TinyModelPreset preset)
    {
        var request = Request();

        var image = models.PipelineFor(preset).Generate([request])[0];

        Assert.Equal(0, TestImages.MaxDifference(image.Rgb, request.InitImage!, (x, y) => !Inside(x, y)));
        Assert.True(TestImages.MaxDifference(image.Rgb, request.InitImage!, Inside) > 20, "the masked area should be repainted");
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void Generate_WithoutPasteBack_ReturnsTheDecodedImageEverywhere(TinyModelPreset preset)
    {
        var pipeline = models.PipelineFor(preset);
        var pasted = pipeline.Generate([Request()])[0];
        var decoded = pipeline.Generate([Request() with { PasteBack = false }])[0];

        // Same generation, so the repainted area is identical; outside, the VAE's reconstruction instead of the original.
        Assert.Equal(0, TestImages.MaxDifference(pasted.Rgb, RgbaImage.FromRgb(64, 64, decoded.Rgb), Inside));
        Assert.True(TestImages.MaxDifference(decoded.Rgb, Request().InitImage!, (x, y) => !Inside(x, y)) > 0);
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void Generate_WithTheSameSeed_GivesIdenticalBytes_AndBatchesLikeAlone(TinyModelPreset preset)
    {
        var pipeline = models.PipelineFor(preset);
        GenerationRequest[] batch =
        [
            Request(seed: 7),
            Request(seed: 8, variant: 1) with { Mask = TestImages.RectangleMask(64, 64, 0, 0, 32, 64), NegativePrompt = "blurry" },
            Request(seed: 9, variant: 2) with { MaskBlur = 2, Rng = RngKind.Gpu },
        ];

        var together = pipeline.Generate(batch);

        Assert.Equal(together[0].Rgb, pipeline.Generate([batch[0]])[0].Rgb);
        ImageAssert.EachEqualsItsRequestAlone(pipeline, batch, together);
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void Generate_WithAStrengthBelowOne_StartsFromTheNoisedImage(TinyModelPreset preset)
    {
        var pipeline = models.PipelineFor(preset);
        var request = Request() with { Steps = 10, Strength = 0.5 };

        var reports = PipelineProbes.Steps(pipeline, request);

        Assert.Equal(5, reports.Count);
        Assert.Equal(0, TestImages.MaxDifference(pipeline.Generate([request])[0].Rgb, request.InitImage!, (x, y) => !Inside(x, y)));
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void Generate_TheThreeMaskConventionsForTheSameArea_GiveTheSameImage(TinyModelPreset preset)
    {
        var pipeline = models.PipelineFor(preset);
        var white = Request();
        // OpenAI's edits: a mask whose fully transparent pixels mark the area (its colour does not matter)…
        var transparentMask = white with
        {
            Mask = TestImages.WithTransparentRectangle(TestImages.Gradient(64, 64, 5), Left, Top, Right, Bottom),
            MaskConvention = MaskConvention.Transparency,
        };
        // …or, without a mask, the init image's own transparent pixels (its RGB there is still the image's).
        var transparentImage = white with
        {
            Mask = null,
            InitImage = TestImages.WithTransparentRectangle(white.InitImage!, Left, Top, Right, Bottom),
            MaskConvention = MaskConvention.Transparency,
        };

        var expected = pipeline.Generate([white])[0].Rgb;

        Assert.Equal(expected, pipeline.Generate([transparentMask])[0].Rgb);
        Assert.Equal(expected, pipeline.Generate([transparentImage])[0].Rgb);
    }

    [Fact]
    public void Generate_WithMaskBlur_KeepsPixelsBeyondThreeSigmaExactlyAndFeathersTheEdge()
    {
        const int sigma = 2;
        var request = Request() with { MaskBlur = sigma };

        var image = models.Pipeline.Generate([request])[0];

        bool Far(int x, int y) => x < Left - 3 * sigma || x >= Right + 3 * sigma || y < Top - 3 * sigma || y >= Bottom + 3 * sigma;
        Assert.Equal(0, TestImages.MaxDifference(image.Rgb, request.InitImage!, Far));
        // Just outside the rectangle the blurred mask is above 0: the result blends towards the generated pixels.
        Assert.True(TestImages.MaxDifference(image.Rgb, request.InitImage!, (x, y) => !Inside(x, y) && !Far(x, y)) > 0);
    }

    [Fact]
    public void Generate_WithAMaskThatSelectsNothing_SaysSo()
    {
        var error = Assert.Throws<ArgumentException>(() => models.Pipeline.Generate([Request() with { Mask = TestImages.RectangleMask(64, 64, 0, 0, 0, 0) }]));

        Assert.Contains("the mask selects no pixel to repaint", error.Message);
    }

    [Fact]
    public void Generate_WithAMaskOfAnotherSize_NamesBothSizes()
    {
        var error = Assert.Throws<ArgumentException>(() => models.Pipeline.Generate([Request() with { Mask = TestImages.RectangleMask(32, 64, 0, 0, 8, 8) }]));

        Assert.Contains("must be the size of its init image (64x64) but is 32x64", error.Message);
    }

    [Fact]
    public void Generate_TransparencyConventionOnAnOpaqueImageWithoutAMask_SaysThereIsNothingToEdit()
    {
        var error = Assert.Throws<ArgumentException>(() => models.Pipeline.Generate([Request() with { Mask = null, MaskConvention = MaskConvention.Transparency }]));

        Assert.Contains("the image has no fully transparent pixels", error.Message);
    }

    [Fact]
    public void Generate_WithAMaskButNoInitImage_IsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => models.Pipeline.Generate([Request() with { InitImage = null }]));

        Assert.Contains("has a mask but no init image", error.Message);
    }

    [Fact]
    public void PrepareMask_ThresholdsLumaAtHalf_TreatsTransparentAsBlack_AndSamplesTheLatentMaskAtEightPixelCorners()
    {
        var image = TestImages.Gradient(16, 8);
        var pixels = new byte[16 * 8 * 4];
        void Set(int x, int y, byte grey, byte alpha)
        {
            var p = 4 * (y * 16 + x);
            pixels[p] = pixels[p + 1] = pixels[p + 2] = grey;
            pixels[p + 3] = alpha;
        }
        Set(0, 0, 127, 255);  // luma 127: keep
        Set(1, 0, 128, 255);  // luma 128 (≥ 50 %): repaint
        Set(2, 0, 255, 0);    // white but transparent: composited over black, keep
        Set(8, 0, 255, 255);  // the corner of the second 8×8 block: its latent repaints
        var modelMask = new float[16 * 8];
        var alpha = new float[16 * 8];
        var latentMask = new float[2];

        InpaintMask.Prepare(image, new RgbaImage(16, 8, pixels), MaskConvention.Luminance, blur: 0, modelMask, alpha, latentMask);

        Assert.Equal([0f, 1f, 0f], modelMask[..3]);
        Assert.Equal(modelMask, alpha);
        Assert.Equal([0f, 1f], latentMask);
    }

    [Fact]
    public void Generate_LegacyBlendLoopAllocationsDoNotGrowWithTheLatentSize()
    {
        // Per step the legacy blend re-noises the image latents (AddNoise) and blends per channel, in rented buffers.
        GenerationRequest At(int size) => Request() with
        {
            Width = size, Height = size, Steps = 10, GuidanceScale = 1f, Scheduler = "euler",
            InitImage = TestImages.Gradient(size, size), Mask = TestImages.RectangleMask(size, size, 0, 0, size / 2, size),
        };

        var small = AllocationMeasurement.Fewest(() => PipelineProbes.MaxBytesAllocatedPerStep(models.Pipeline, At(256)));
        var large = AllocationMeasurement.Fewest(() => PipelineProbes.MaxBytesAllocatedPerStep(models.Pipeline, At(512)));

        Assert.True(large <= small + 1024, $"a step allocated {large} bytes at 512×512 but {small} bytes at 256×256");
        Assert.True(large < 16 * 1024, $"a step allocated {large} bytes");
    }
}
