using System.Text.Json.Nodes;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Pipelines.Steps;
using DiffusionEngine.Runtime;
using DiffusionEngine.TinyModel;
using DiffusionEngine.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Tests.Pipelines;

/// <summary>SDXL on the tiny-sdxl model: two encoders, pooled text_embeds, time_ids, zeroed empty negatives, the VAE overflow error.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class StableDiffusionXLPipelineTests(TinyModelFixture models)
{
    private static readonly TinyModelOptions TinySdxl = new() { Preset = TinyModelPreset.TinySdxl };
    private static readonly PipelineOptions Cpu = new() { ExecutionProvider = ExecutionProviderKind.Cpu };

    private DiffusionPipeline Pipeline => models.PipelineFor(TinySdxl);

    private static GenerationRequest Request(string prompt = "a red fox in the snow", ulong seed = 42, float guidance = 5f) =>
        new() { Prompt = prompt, Seed = seed, GuidanceScale = guidance, Width = 64, Height = 48, Steps = 3 };

    [Fact]
    public void Generate_IsDeterministic_NotFlat_AndBatchesLikeAlone()
    {
        GenerationRequest[] batch = [Request(seed: 1), Request("a lighthouse at dusk", seed: 2) with { NegativePrompt = "blurry" }];

        var together = Pipeline.Generate(batch);

        ImageAssert.NotFlat(together[0]);
        Assert.Equal(together[0].Rgb, Pipeline.Generate(batch)[0].Rgb);
        ImageAssert.EachEqualsItsRequestAlone(Pipeline, batch, together);
    }

    [Fact]
    public void Generate_RunsTheUnconditionalPassOnlyAboveGuidanceOne()
    {
        var sizes = PipelineProbes.CaptureUNetBatchSizes(() =>
        {
            Pipeline.Generate([Request(guidance: 5f), Request(guidance: 2f)]);
            Pipeline.Generate([Request(guidance: 1f), Request(guidance: 0f)]);
        });

        Assert.Equal([4, 2], sizes);
    }

    [Fact]
    public void EncodePrompts_ConcatenatesBothEncodersPenultimateStates_PoolsTextEncoder2_AndWritesTheSizeAsTimeIds()
    {
        using var components = LoadComponents(models.ModelFor(TinySdxl));
        using var runOptions = new RunOptions();

        using var inputs = SdxlPromptEncoder.Encode(components, [Request() with { NegativePrompt = "blurry" }], unconditional: true, width: 64, height: 48, runOptions);

        Assert.Equal(32 + 48, inputs.HiddenSize); // text_encoder (32) ‖ text_encoder_2 (48)
        Assert.Equal(32, inputs.TextEmbedsSize);   // text_encoder_2's projection
        // time_ids = original size (h, w) + crop top-left (0, 0) + target size (h, w), for the negative and the positive row.
        Assert.Equal([48f, 64f, 0f, 0f, 48f, 64f, 48f, 64f, 0f, 0f, 48f, 64f], inputs.TimeIds![..12]);
        Assert.Contains(inputs.HiddenStates.AsSpan(0, 77 * 80).ToArray(), value => value != 0f);
    }

    [Fact]
    public void EncodePrompts_AnEmptyNegativePrompt_GivesZeroEmbeddings_WhereTheModelForcesZeros()
    {
        using var components = LoadComponents(models.ModelFor(TinySdxl));
        using var runOptions = new RunOptions();

        using var inputs = SdxlPromptEncoder.Encode(components, [Request()], unconditional: true, width: 64, height: 48, runOptions);

        // Row 0 is the negative: hidden states and pooled embedding all zero; row 1 (the prompt) is not.
        Assert.All(inputs.HiddenStates.AsSpan(0, 77 * 80).ToArray(), value => Assert.Equal(0f, value));
        Assert.All(inputs.TextEmbeds!.AsSpan(0, 32).ToArray(), value => Assert.Equal(0f, value));
        Assert.Contains(inputs.TextEmbeds!.AsSpan(32, 32).ToArray(), value => value != 0f);
    }

    [Fact]
    public void EncodePrompts_WithoutForceZeros_EncodesTheEmptyNegativePrompt()
    {
        var model = models.CopyOf(TinySdxl);
        var index = Path.Combine(model, "model_index.json");
        var json = JsonNode.Parse(File.ReadAllText(index))!.AsObject();
        json["force_zeros_for_empty_prompt"] = false;
        File.WriteAllText(index, json.ToJsonString());
        using var components = LoadComponents(model);
        using var runOptions = new RunOptions();

        using var inputs = SdxlPromptEncoder.Encode(components, [Request()], unconditional: true, width: 64, height: 48, runOptions);

        Assert.Contains(inputs.TextEmbeds!.AsSpan(0, 32).ToArray(), value => value != 0f);
    }

    [Fact]
    public void Generate_WhenTheVaeDecodesToNaN_FailsNamingTheFp16FixInsteadOfReturningABlackImage()
    {
        // A scaling factor of 1e-38 turns latents / scaling_factor into values near float32's limit that the VAE overflows on, as the
        // float16 SDXL VAE does.
        var model = models.CopyOf(TinySdxl);
        var config = Path.Combine(model, "vae_decoder", "config.json");
        var json = JsonNode.Parse(File.ReadAllText(config))!.AsObject();
        json["scaling_factor"] = 1e-38;
        File.WriteAllText(config, json.ToJsonString());
        using var pipeline = DiffusionPipeline.Load(model, Cpu);

        var error = Assert.Throws<NonFiniteImageException>(() => pipeline.Generate([Request()]));

        Assert.Contains("the VAE decoder produced NaN or infinite values for image 0", error.Message);
        Assert.Contains("sdxl-vae-fp16-fix", error.Message);
    }

    [Fact]
    public void Generate_StepLoopAllocationsDoNotGrowWithTheLatentSize()
    {
        // text_embeds, time_ids and the hidden states are bound once per generation; a step binds only sample and timestep.
        var small = AllocationMeasurement.Fewest(() => PipelineProbes.MaxBytesAllocatedPerStep(Pipeline, Request(guidance: 5f) with { Width = 256, Height = 256, Steps = 10 }));
        var large = AllocationMeasurement.Fewest(() => PipelineProbes.MaxBytesAllocatedPerStep(Pipeline, Request(guidance: 5f) with { Width = 512, Height = 512, Steps = 10 }));

        Assert.True(large <= small + 1024, $"a step allocated {large} bytes at 512×512 but {small} bytes at 256×256");
        Assert.True(large < 16 * 1024, $"a step allocated {large} bytes");
    }

    private static ModelComponents LoadComponents(string directory) => ModelComponents.Load(directory, Cpu, NullLogger.Instance);
}
