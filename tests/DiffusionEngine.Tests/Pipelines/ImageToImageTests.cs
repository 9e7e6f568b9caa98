using System.Numerics.Tensors;
using DiffusionEngine.Imaging;
using DiffusionEngine.Noise;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Pipelines.Steps;
using DiffusionEngine.Runtime;
using DiffusionEngine.Schedulers;
using DiffusionEngine.TinyModel;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Tests.Pipelines;

/// <summary>Image-to-image on the tiny models: determinism, batching, strength, both VAE encoder output forms, the init image's handling.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class ImageToImageTests(TinyModelFixture models)
{
    private static readonly TinyModelOptions LatentParameters = new() { VaeEncoderOutput = VaeEncoderOutput.LatentParameters };

    private static GenerationRequest Request(ulong seed = 42, double? strength = 0.5, int steps = 6, int variant = 0, string prompt = "a red fox in the snow") =>
        new()
        {
            Prompt = prompt, Seed = seed, Width = 64, Height = 64, Steps = steps, Scheduler = "euler_a",
            InitImage = TestImages.Gradient(64, 64, variant), Strength = strength,
        };

    public static TheoryData<VaeEncoderOutput> EncoderOutputs => new() { VaeEncoderOutput.LatentSample, VaeEncoderOutput.LatentParameters };

    [Theory]
    [MemberData(nameof(EncoderOutputs))]
    public void Generate_WithTheSameSeed_GivesIdenticalBytes_ForEitherEncoderOutput(VaeEncoderOutput output)
    {
        var pipeline = models.PipelineFor(new TinyModelOptions { VaeEncoderOutput = output });

        var first = pipeline.Generate([Request()])[0];
        var second = pipeline.Generate([Request()])[0];

        Assert.Equal(first.Rgb, second.Rgb);
        ImageAssert.NotFlat(first);
        Assert.NotEqual(first.Rgb, pipeline.Generate([Request(seed: 43)])[0].Rgb);
    }

    [Theory]
    [MemberData(nameof(EncoderOutputs))]
    public void Generate_ImageOfABatchEqualsTheSameRequestRunAlone(VaeEncoderOutput output)
    {
        var pipeline = models.PipelineFor(new TinyModelOptions { VaeEncoderOutput = output });
        GenerationRequest[] batch =
        [
            Request(seed: 7, variant: 0),
            Request(seed: 1234, variant: 1, prompt: "a lighthouse at dusk") with { NegativePrompt = "blurry", GuidanceScale = 3f },
            Request(seed: 99, variant: 2, prompt: "an astronaut") with { Rng = RngKind.Gpu },
        ];

        var together = pipeline.Generate(batch);

        ImageAssert.EachEqualsItsRequestAlone(pipeline, batch, together);
    }

    [Fact]
    public void Generate_OnSdxl_IsDeterministicAndBatchesLikeAlone()
    {
        var pipeline = models.PipelineFor(new TinyModelOptions { Preset = TinyModelPreset.TinySdxl, VaeEncoderOutput = VaeEncoderOutput.LatentParameters });
        GenerationRequest[] batch = [Request(seed: 3) with { Scheduler = null }, Request(seed: 4, variant: 1) with { Scheduler = null }];

        var together = pipeline.Generate(batch);

        Assert.Equal(together[0].Rgb, pipeline.Generate(batch)[0].Rgb);
        Assert.True(ImageAssert.MaxAbsoluteDifference(pipeline.Generate([batch[1]])[0], together[1]) <= 1);
    }

    [Theory]
    [InlineData("euler", 10, 1.0, 10)]
    [InlineData("euler", 10, 0.5, 5)]
    [InlineData("euler", 10, 0.1, 1)]
    [InlineData("pndm", 10, 0.5, 6)] // PNDM's schedule visits its second timestep twice: timesteps[5:] of 11, as in diffusers
    [InlineData("dpmpp_2m", 10, 0.3, 3)]
    public void Generate_RunsTheStepsTheStrengthLeaves(string scheduler, int steps, double strength, int expectedSteps)
    {
        var reports = PipelineProbes.Steps(models.Pipeline, Request(strength: strength, steps: steps) with { Scheduler = scheduler });

        Assert.Equal(Enumerable.Range(1, expectedSteps), reports.Select(r => r.Step));
        Assert.All(reports, r => Assert.Equal(expectedSteps, r.TotalSteps));
    }

    [Fact]
    public void Generate_WithAStrengthThatLeavesNoStep_IsRejectedBeforeAnyModelRuns()
    {
        var runsBefore = models.Pipeline.RunTimer.Calls;

        var error = Assert.Throws<ArgumentException>(() => models.Pipeline.Generate([Request(strength: 0.1, steps: 6)]));

        Assert.StartsWith("strength 0.1 with 6 steps leaves no denoising step to run", error.Message);
        Assert.Equal(runsBefore, models.Pipeline.RunTimer.Calls);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    public void Generate_WithAStrengthOutsideZeroToOne_IsRejected(double strength)
    {
        var error = Assert.Throws<ArgumentException>(() => models.Pipeline.Generate([Request(strength: strength)]));

        Assert.StartsWith("strength must be greater than 0 and at most 1", error.Message);
    }

    [Fact]
    public void Generate_WithAStrengthButNoInitImage_IsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => models.Pipeline.Generate([Request() with { InitImage = null }]));

        Assert.Contains("has a strength but no init image", error.Message);
    }

    [Fact]
    public void Generate_WithDifferentStrengthsInOneBatch_NamesTheFirstStep()
    {
        var error = Assert.Throws<ArgumentException>(() => models.Pipeline.Generate([Request(strength: 0.5), Request(strength: 1.0)]));

        Assert.Contains("must start at the same step", error.Message);
    }

    [Fact]
    public void Generate_DropsTheInitImagesAlphaChannel()
    {
        var opaque = Request();
        var pixels = (byte[])opaque.InitImage!.Pixels.Clone();
        for (var i = 3; i < pixels.Length; i += 4) pixels[i] = (byte)(i % 7 == 0 ? 0 : 128);

        var fromOpaque = models.Pipeline.Generate([opaque])[0];
        var fromTranslucent = models.Pipeline.Generate([opaque with { InitImage = new RgbaImage(64, 64, pixels) }])[0];

        Assert.Equal(fromOpaque.Rgb, fromTranslucent.Rgb);
    }

    [Fact]
    public void Generate_ResizesAnInitImageOfAnotherSizeToTheRequestedSize()
    {
        var request = Request() with { InitImage = TestImages.Gradient(100, 70), Width = 64, Height = 48 };

        var image = models.Pipeline.Generate([request])[0];

        Assert.Equal((64, 48, 64 * 48 * 3), (image.Width, image.Height, image.Rgb.Length));
        Assert.Equal(image.Rgb, models.Pipeline.Generate([request])[0].Rgb);
    }

    [Fact]
    public void PrepareLatents_FromLatentParameters_DrawsTheEncoderSampleFirstThenTheNoise()
    {
        // diffusers (one CPU generator per image): x = mean + exp(0.5·clamp(logvar, −30, 20))·randn (the encoder sample),
        // latents = scheduler.add_noise(0.18215·x, randn, t_first) with the next randn of the same generator.
        var request = Request(seed: 11) with { Scheduler = "euler" };
        var (actual, expected) = PreparedAndExpectedLatent(LatentParameters, request, (moments, noise, latent) =>
        {
            var length = latent.Length;
            noise.Fill(latent);
            for (var i = 0; i < length; i++) latent[i] = moments[i] + MathF.Exp(0.5f * Math.Clamp(moments[length + i], -30f, 20f)) * latent[i];
        });

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void PrepareLatents_FromALatentSample_TakesItAsIsAndDrawsOnlyTheNoise()
    {
        var request = Request(seed: 11) with { Scheduler = "euler" };
        var (actual, expected) = PreparedAndExpectedLatent(new TinyModelOptions(), request, (moments, _, latent) => moments[..latent.Length].CopyTo(latent));

        Assert.Equal(expected, actual);
    }

    /// <summary>
    /// The latent step 4 prepares for <paramref name="request"/>, and the one the test computes from the VAE encoder's own
    /// output: <paramref name="sample"/> turns the encoder output into x using the image's noise stream; then
    /// <c>add_noise(0.18215·x, next noise, first step)</c>.
    /// </summary>
    private (float[] Actual, float[] Expected) PreparedAndExpectedLatent(TinyModelOptions options, GenerationRequest request,
        SampleRule sample)
    {
        var pipeline = models.PipelineFor(options);
        using var components = ModelComponents.Load(models.ModelFor(options), new PipelineOptions { ExecutionProvider = ExecutionProviderKind.Cpu }, NullLogger.Instance);
        var batch = pipeline.Prepare([request]);
        var (key, schedulerInfo) = (batch.Key, batch.Scheduler);
        using var runOptions = new RunOptions();

        using var prepared = LatentPreparation.Prepare(components, batch, TimestepPreparation.Create(schedulerInfo!, components.SchedulerConfig, 1, key.Steps), runOptions);

        var encoder = components.VaeEncoder!;
        var pixels = new float[3 * 64 * 64];
        var moments = new float[encoder.OutputChannels * 8 * 8];
        ImageLatents.ToPlanar(request.InitImage!, pixels);
        encoder.Encode(runOptions, pixels, moments, 1, 64, 64);
        var noise = new TorchCpuNoise(request.Seed);
        var expected = new float[4 * 8 * 8];
        sample(moments, noise, expected);
        TensorPrimitives.Multiply(expected, 0.18215f, expected);
        var epsilon = new float[expected.Length];
        noise.Fill(epsilon);
        var scheduler = SchedulerFactory.Create(schedulerInfo!, components.SchedulerConfig);
        scheduler.SetTimesteps(key.Steps);
        scheduler.AddNoise(expected, epsilon, key.FirstStep);
        return (prepared.Latent(0).ToArray(), expected);
    }

    private delegate void SampleRule(float[] moments, INoiseSource noise, Span<float> latent);
}
