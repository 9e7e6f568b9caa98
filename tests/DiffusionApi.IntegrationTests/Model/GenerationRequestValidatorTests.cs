using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionApi.Model;
using DiffusionApi.Options;
using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Text;
using DiffusionEngine.Text.Prompts;

namespace DiffusionApi.IntegrationTests.Model;

/// <summary>The validator alone: seed arithmetic at the edges of the 64-bit range, and what a valid request maps to.</summary>
public sealed class GenerationRequestValidatorTests
{
    private static readonly ModelInfo Model = new("tiny-sd", "/models/tiny-sd", "pndm", 77, "CPU")
    {
        Prompts = new PromptReader(ClipTokenizer.Load(Path.Combine(SharedTinyModel.Directory, "tokenizer"))),
    };

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

    [Fact]
    public void PromptFields_ResolveTheConfiguredDefaults_AndReachEveryEngineRequest()
    {
        var configured = new PromptsOptions { Syntax = "plain", Emphasis = "comfy" };

        var defaults = GenerationRequestValidator.Validate(new ImageGenerationRequest { Prompt = "x", N = 2 }, new LimitsOptions(), Model, () => 0, out _, configured)!;
        var given = GenerationRequestValidator.Validate(new ImageGenerationRequest { Prompt = "x", PromptSyntax = "A1111", Emphasis = "no_norm" },
            new LimitsOptions(), Model, () => 0, out _, configured)!;

        Assert.Equal((PromptSyntax.Plain, EmphasisMode.Comfy, 1), (defaults.PromptSyntax, defaults.Emphasis, defaults.ClipSkip));
        Assert.All(defaults.ToEngineRequests(), request => Assert.Equal((PromptSyntax.Plain, EmphasisMode.Comfy), (request.PromptSyntax, request.Emphasis)));
        Assert.Equal((PromptSyntax.A1111, EmphasisMode.NoNorm), (given.PromptSyntax, given.Emphasis));
    }

    [Fact]
    public void PromptsOverTheChunkLimit_AreRejectedEachNamingItsField()
    {
        var longText = string.Join(", ", Enumerable.Repeat("a watercolor painting of a lighthouse at dusk", 6));

        var spec = GenerationRequestValidator.Validate(new ImageGenerationRequest { Prompt = longText, NegativePrompt = longText },
            new LimitsOptions { MaxPromptChunks = 1 }, Model, () => 0, out var errors);

        Assert.Null(spec);
        Assert.Equal("prompt needs 2 chunks of 75 tokens but at most 1 are allowed (MaxPromptChunks)", Assert.Single(errors["prompt"]));
        Assert.StartsWith("negative_prompt needs 2 chunks", Assert.Single(errors["negative_prompt"]));
    }

    [Fact]
    public void PlainSyntax_NeverCountsChunks_ItCutsTheText()
    {
        var longText = string.Join(", ", Enumerable.Repeat("a watercolor painting of a lighthouse at dusk", 6));

        var spec = GenerationRequestValidator.Validate(new ImageGenerationRequest { Prompt = longText, PromptSyntax = "plain" },
            new LimitsOptions { MaxPromptChunks = 1 }, Model, () => 0, out var errors);

        Assert.Empty(errors);
        Assert.Equal(PromptSyntax.Plain, spec!.PromptSyntax);
    }
}
