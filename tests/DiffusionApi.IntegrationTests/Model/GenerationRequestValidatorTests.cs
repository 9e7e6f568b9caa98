using DiffusionApi.Model;
using DiffusionApi.Options;
using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;

namespace DiffusionApi.IntegrationTests.Model;

/// <summary>The validator alone: seed arithmetic at the edges of the 64-bit range, and what a valid request maps to.</summary>
public sealed class GenerationRequestValidatorTests
{
    private static readonly ModelInfo Model = new("tiny-sd", "/models/tiny-sd", "pndm", 77, "CPU");

    [Fact]
    public void MissingSeed_IsDrawnSoThatEveryImageSeedStaysWithinMaxSeed()
    {
        var limits = new LimitsOptions { MaxSeed = 10 };

        var spec = GenerationRequestValidator.Validate(new ImageGenerationRequest { Prompt = "x", N = 4 }, limits, Model, () => ulong.MaxValue, out var errors);

        Assert.Empty(errors);
        Assert.NotNull(spec);
        Assert.True(spec.Seed + 3 <= 10, $"seed {spec.Seed}");
    }

    [Fact]
    public void MissingSeed_IsDrawnSoThatEveryImageSeedStaysBelow2To32()
    {
        var spec = GenerationRequestValidator.Validate(new ImageGenerationRequest { Prompt = "x", N = 4 }, new LimitsOptions(), Model, () => ulong.MaxValue - 1, out var errors);

        Assert.Empty(errors);
        Assert.True(spec!.Seed + 3 <= uint.MaxValue, $"seed {spec.Seed}");
    }

    [Fact]
    public void SeedAtUlongMax_WithSeveralImages_IsRejectedInsteadOfOverflowing()
    {
        var spec = GenerationRequestValidator.Validate(new ImageGenerationRequest { Prompt = "x", N = 2, Seed = ulong.MaxValue }, new LimitsOptions(), Model, () => 0, out var errors);

        Assert.Null(spec);
        Assert.Contains("seed", errors.Keys);
    }

    [Fact]
    public void SeedAtUlongMax_ForOneImage_IsAccepted()
    {
        var spec = GenerationRequestValidator.Validate(new ImageGenerationRequest { Prompt = "x", Seed = ulong.MaxValue }, new LimitsOptions(), Model, () => 0, out _);

        Assert.Equal(ulong.MaxValue, Assert.Single(spec!.ToEngineRequests()).Seed);
    }

    [Fact]
    public void ValidRequest_MapsToOneEngineRequestPerImageWithSeedPlusIndex()
    {
        var request = new ImageGenerationRequest
        {
            Prompt = "a fox", NegativePrompt = "blur", N = 3, Size = "128x64", Steps = 5, GuidanceScale = 3.5, Seed = 100,
            Scheduler = "DDIM", OutputFormat = "jpg", ResponseFormat = "url", Rng = "gpu", Model = "TINY-SD",
        };

        var spec = GenerationRequestValidator.Validate(request, new LimitsOptions(), Model, () => 0, out var errors);

        Assert.Empty(errors);
        Assert.Equal((ImageFormat.Jpeg, ResponseFormat.Url, "ddim"), (spec!.OutputFormat, spec.ResponseFormat, spec.Scheduler));
        var engine = spec.ToEngineRequests();
        Assert.Equal([100UL, 101UL, 102UL], engine.Select(r => r.Seed));
        Assert.All(engine, r => Assert.Equal((128, 64, 5, 3.5f, "blur", RngKind.Gpu), (r.Width, r.Height, r.Steps, r.GuidanceScale, r.NegativePrompt, r.Rng)));
    }

    [Fact]
    public void MissingScheduler_LeavesTheModelsOwnSchedulerToTheEngine()
    {
        var spec = GenerationRequestValidator.Validate(new ImageGenerationRequest { Prompt = "x" }, new LimitsOptions(), Model, () => 0, out _);

        Assert.Null(spec!.Scheduler);
        Assert.Equal((512, 512, 20, 7.5f), (spec.Width, spec.Height, spec.Steps, spec.GuidanceScale));
    }

    [Theory]
    [InlineData("low", 10)]
    [InlineData("high", 30)] // twice the default, capped by MaxSteps
    [InlineData(null, 20)]
    public void Quality_MapsToTheModelsStepPresetWithinTheLimits(string? quality, int steps)
    {
        var spec = GenerationRequestValidator.Validate(new ImageGenerationRequest { Prompt = "x", Quality = quality }, new LimitsOptions { MaxSteps = 30 }, Model, () => 0, out var errors);

        Assert.Empty(errors);
        Assert.Equal(steps, spec!.Steps);
    }

    [Fact]
    public void MissingSteps_RunsTheModelsDefaultWithinTheLimits()
    {
        var spec = GenerationRequestValidator.Validate(new ImageGenerationRequest { Prompt = "x" }, new LimitsOptions { MaxSteps = 8 }, Model, () => 0, out var errors);

        Assert.Empty(errors);
        Assert.Equal(8, spec!.Steps);
    }

    [Fact]
    public void OutputCompression_BecomesTheSpecsOutputQuality()
    {
        var spec = GenerationRequestValidator.Validate(new ImageGenerationRequest { Prompt = "x", OutputFormat = "webp", OutputCompression = 35 }, new LimitsOptions(), Model, () => 0, out _);

        Assert.Equal(35, spec!.OutputQuality);
    }
}
