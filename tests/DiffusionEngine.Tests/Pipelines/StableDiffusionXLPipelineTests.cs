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

        using var inputs = SdxlPromptEncoder.Encode(components, Pipeline.Prepare([Request() with { NegativePrompt = "blurry" }]), runOptions);

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

        using var inputs = SdxlPromptEncoder.Encode(components, Pipeline.Prepare([Request()]), runOptions);

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

        using var inputs = SdxlPromptEncoder.Encode(components, Pipeline.Prepare([Request()]), runOptions);

        Assert.Contains(inputs.TextEmbeds!.AsSpan(0, 32).ToArray(), value => value != 0f);
    }

    [Fact]
    public void Generate_LongPromptsOfMixedLengthsInOneBatch_EachEqualsItsRequestAlone()
    {
        GenerationRequest[] batch =
        [
            Request(PromptConditioningTests.Long(6), seed: 1),
            Request("a (red fox:1.2) in the snow", seed: 2) with { NegativePrompt = PromptConditioningTests.Long(15, "blurry, low quality") },
        ];
        Assert.All(batch, request => Assert.Equal(2, Pipeline.BatchKeyFor(request).PromptChunks));

        var together = Pipeline.Generate(batch);

        ImageAssert.NotFlat(together[0]);
        ImageAssert.EachEqualsItsRequestAlone(Pipeline, batch, together);
    }

    [Fact]
    public void EncodePrompts_ALongPrompt_ConcatenatesBothEncodersOverEveryChunk_AndPoolsItsFirstChunk()
    {
        using var components = LoadComponents(models.ModelFor(TinySdxl));
        using var runOptions = new RunOptions();

        using var both = SdxlPromptEncoder.Encode(components, Pipeline.Prepare([Request("a red fox BREAK a lighthouse at dusk", guidance: 1f)]), runOptions);
        using var first = SdxlPromptEncoder.Encode(components, Pipeline.Prepare([Request("a red fox", guidance: 1f)]), runOptions);
        using var second = SdxlPromptEncoder.Encode(components, Pipeline.Prepare([Request("a lighthouse at dusk", guidance: 1f)]), runOptions);

        var chunk = 77 * 80;
        Assert.Equal((154, 80), (both.SequenceLength, both.HiddenSize));
        Assert.Equal(first.HiddenStates.AsSpan(0, chunk).ToArray(), both.HiddenStates.AsSpan(0, chunk).ToArray());
        Assert.Equal(second.HiddenStates.AsSpan(0, chunk).ToArray(), both.HiddenStates.AsSpan(chunk, chunk).ToArray());
        Assert.Equal(first.TextEmbeds!.AsSpan(0, 32).ToArray(), both.TextEmbeds!.AsSpan(0, 32).ToArray());
    }

    [Fact]
    public void EncodePrompts_AnEmptyNegativePromptBesideALongPrompt_IsZeroOverEveryChunk()
    {
        using var components = LoadComponents(models.ModelFor(TinySdxl));
        using var runOptions = new RunOptions();

        using var inputs = SdxlPromptEncoder.Encode(components, Pipeline.Prepare([Request(PromptConditioningTests.Long(6))]), runOptions);

        Assert.Equal(154, inputs.SequenceLength);
        Assert.All(inputs.HiddenStates.AsSpan(0, 154 * 80).ToArray(), value => Assert.Equal(0f, value));
        Assert.Contains(inputs.HiddenStates.AsSpan(154 * 80, 154 * 80).ToArray(), value => value != 0f);
    }

    [Fact]
    public void ClipSkip_OnTheTwoLayerEncoders_IsLimitedToTheirPenultimateLayer()
    {
        using var components = LoadComponents(models.ModelFor(TinySdxl));

        Assert.Equal(1, Pipeline.Model.Prompts!.MaxClipSkip);
        Assert.Equal("hidden_states.1", SdxlPromptEncoder.Layer(components.TextEncoder, 1).OutputName); // hidden_states[-2] of 2 layers
        var error = Assert.Throws<ArgumentException>(() => Pipeline.Generate([Request() with { ClipSkip = 2 }]));
        Assert.Contains("clip_skip must be between 1 and 1 for this model", error.Message);
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
