using DiffusionEngine.Pipelines;
using DiffusionEngine.Pipelines.Steps;
using DiffusionEngine.Runtime;
using DiffusionEngine.Text.Prompts;
using DiffusionEngine.TinyModel;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Tests.Pipelines;

/// <summary>
/// A1111 prompts in the SD pipeline on the tiny model: chunks concatenated along the sequence, the negative prompt padded,
/// long prompts of mixed lengths batched like alone, weights of 1 identical to plain text, emphasis modes, clip skip with
/// and without hidden states, and a UNet exported with a fixed text sequence.
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class PromptConditioningTests(TinyModelFixture models)
{
    private static readonly TinyModelOptions HiddenStates = new() { TextEncoderHiddenStates = true };
    private static readonly PipelineOptions Cpu = new() { ExecutionProvider = ExecutionProviderKind.Cpu };

    /// <summary>Repetitions of a phrase (17 tokens of the tiny vocabulary each, with the comma 18).</summary>
    internal static string Long(int repetitions, string phrase = "a watercolor painting of a lighthouse at dusk") =>
        string.Join(", ", Enumerable.Repeat(phrase, repetitions));

    private static GenerationRequest Request(string prompt, ulong seed = 42, float guidance = 7.5f) =>
        new() { Prompt = prompt, Seed = seed, GuidanceScale = guidance, Width = 64, Height = 64, Steps = 3 };

    [Fact]
    public void Generate_LongPromptsOfMixedLengthsInOneBatch_EachEqualsItsRequestAlone()
    {
        var pipeline = models.PipelineFor(HiddenStates);
        GenerationRequest[] batch =
        [
            Request(Long(6), seed: 1) with { NegativePrompt = "blurry" },                                             // ~107 tokens, short negative
            Request($"(a red fox:1.3), {Long(5)}, [snow]", seed: 2) with { NegativePrompt = Long(30, "low quality") },  // both long
            Request("a red fox", seed: 3) with { NegativePrompt = Long(8, "blurry, jpeg artifacts"), ClipSkip = 2 },   // long negative only
            Request($"({Long(2)}:1.2) BREAK a red fox", seed: 4) with { Emphasis = EmphasisMode.Comfy },
        ];
        Assert.All(batch, request => Assert.Equal(2, pipeline.BatchKeyFor(request).PromptChunks));

        var together = pipeline.Generate(batch);

        ImageAssert.NotFlat(together[1]);
        ImageAssert.EachEqualsItsRequestAlone(pipeline, batch, together);
    }

    [Fact]
    public void Generate_ABatchWhosePromptsNeedDifferentChunkCounts_IsRejectedNamingTheCounts()
    {
        var error = Assert.Throws<ArgumentException>(() => models.Pipeline.Generate([Request("a red fox"), Request(Long(6))]));

        Assert.StartsWith("every request of a batch must have prompts of the same number of 75-token chunks: request 0 has 1 but request 1 has 2", error.Message);
    }

    [Fact]
    public void Generate_APromptPast75Tokens_IsNotCut_WhilePlainSyntaxCutsIt()
    {
        var prompt = Long(5) + ", a red fox in the snow, at night";
        var a1111 = models.Pipeline.Generate([Request(prompt)])[0];
        var plain = models.Pipeline.Generate([Request(prompt) with { PromptSyntax = PromptSyntax.Plain }])[0];
        var firstWindowOnly = models.Pipeline.Generate([Request(Long(5)) with { PromptSyntax = PromptSyntax.Plain }])[0];

        Assert.NotEqual(a1111.Rgb, plain.Rgb);
        Assert.Equal(firstWindowOnly.Rgb, plain.Rgb); // plain keeps the first 75 tokens only
    }

    [Fact]
    public void EncodePrompts_EncodesEachChunkAlone_AndConcatenatesThemAlongTheSequence()
    {
        using var components = LoadComponents(models.DefaultModel);
        using var runOptions = new RunOptions();

        using var both = ClipPromptEncoder.Encode(components, models.Pipeline.Prepare([Request("a red fox BREAK a lighthouse at dusk", guidance: 1f)]), runOptions);
        using var first = ClipPromptEncoder.Encode(components, models.Pipeline.Prepare([Request("a red fox", guidance: 1f)]), runOptions);
        using var second = ClipPromptEncoder.Encode(components, models.Pipeline.Prepare([Request("a lighthouse at dusk", guidance: 1f)]), runOptions);

        var chunk = 77 * both.HiddenSize;
        Assert.Equal(2 * 77, both.SequenceLength);
        Assert.Equal(first.HiddenStates.AsSpan(0, chunk).ToArray(), both.HiddenStates.AsSpan(0, chunk).ToArray());
        Assert.Equal(second.HiddenStates.AsSpan(0, chunk).ToArray(), both.HiddenStates.AsSpan(chunk, chunk).ToArray());
    }

    [Fact]
    public void EncodePrompts_PadsTheShorterNegativePromptWithTheEmptyPromptsChunk()
    {
        using var components = LoadComponents(models.DefaultModel);
        using var runOptions = new RunOptions();

        using var inputs = ClipPromptEncoder.Encode(components, models.Pipeline.Prepare([Request(Long(6)) with { NegativePrompt = "blurry" }]), runOptions);
        using var empty = ClipPromptEncoder.Encode(components, models.Pipeline.Prepare([Request("", guidance: 1f)]), runOptions);

        // Row 0 is the negative prompt: its second chunk is the empty prompt's encoding.
        var chunk = 77 * inputs.HiddenSize;
        Assert.Equal(empty.HiddenStates.AsSpan(0, chunk).ToArray(), inputs.HiddenStates.AsSpan(chunk, chunk).ToArray());
    }

    [Theory]
    [InlineData("a (red:1.0) fox in the snow", "a red fox in the snow")]
    [InlineData("a red fox in the snow, detailed", "a red fox in the snow, detailed")]
    public void Generate_WeightsOfOneEverywhere_AreIdenticalToPlainText(string weighted, string plain)
    {
        var a1111 = models.Pipeline.Generate([Request(weighted) with { NegativePrompt = "(blurry:1)" }])[0];
        var literal = models.Pipeline.Generate([Request(plain) with { NegativePrompt = "blurry", PromptSyntax = PromptSyntax.Plain }])[0];

        Assert.Equal(literal.Rgb, a1111.Rgb);
    }

    [Fact]
    public void Generate_Weights_ChangeTheImageByTheEmphasisMode()
    {
        GeneratedImage Run(EmphasisMode mode) => models.Pipeline.Generate([Request("a (red:1.5) fox in the [snow]") with { Emphasis = mode }])[0];
        var unweighted = models.Pipeline.Generate([Request("a red fox in the snow")])[0];

        var original = Run(EmphasisMode.Original);
        var noNorm = Run(EmphasisMode.NoNorm);
        var comfy = Run(EmphasisMode.Comfy);

        Assert.NotEqual(unweighted.Rgb, original.Rgb);
        Assert.NotEqual(original.Rgb, noNorm.Rgb);
        Assert.NotEqual(original.Rgb, comfy.Rgb);
        Assert.Equal(unweighted.Rgb, Run(EmphasisMode.Ignore).Rgb); // brackets parsed, weights ignored
    }

    [Fact]
    public void Load_AnExportWithHiddenStates_AllowsClipSkipDownToItsFirstLayer_AndOneWithoutSaysWhyNot()
    {
        var with = models.PipelineFor(HiddenStates).Model.Prompts!;
        var without = models.Pipeline.Model.Prompts!;

        Assert.Equal((2, null), (with.MaxClipSkip, with.ClipSkipUnavailable));
        Assert.Equal(1, without.MaxClipSkip);
        Assert.StartsWith("its text_encoder was exported without the 'hidden_states.N' outputs (its outputs are: last_hidden_state, pooler_output)", without.ClipSkipUnavailable);
    }

    [Fact]
    public void Generate_ClipSkip2_ChangesTheImage_AndClipSkip1IsTheModelWithoutHiddenStates()
    {
        var pipeline = models.PipelineFor(HiddenStates);

        var skip1 = pipeline.Generate([Request("a red fox in the snow")])[0];
        var skip2 = pipeline.Generate([Request("a red fox in the snow") with { ClipSkip = 2 }])[0];

        Assert.True(ImageAssert.MaxAbsoluteDifference(skip1, skip2) > 0);
        // The export with hidden states is a different graph (extra outputs), so ONNX Runtime may fuse its last
        // layer differently: the same computation, within one 8-bit level of the model without them.
        var withoutHiddenStates = models.Pipeline.Generate([Request("a red fox in the snow")])[0];
        Assert.True(ImageAssert.MaxAbsoluteDifference(withoutHiddenStates, skip1) <= 1);
    }

    [Fact]
    public void EncodePrompts_ClipSkip2_IsThePenultimateHiddenStatesThroughTheFinalLayerNorm()
    {
        using var components = LoadComponents(models.ModelFor(HiddenStates));
        var pipeline = models.PipelineFor(HiddenStates);
        using var runOptions = new RunOptions();
        var request = Request("a red fox in the snow", guidance: 1f) with { ClipSkip = 2 };

        using var inputs = ClipPromptEncoder.Encode(components, pipeline.Prepare([request]), runOptions);

        var ids = pipeline.Model.Prompts!.Read(request.Prompt).Chunks[0].Ids.ToArray();
        var (penultimate, last) = RunTextEncoder(Path.Combine(models.ModelFor(HiddenStates), "text_encoder", "model.onnx"), ids, "hidden_states.1", "last_hidden_state");
        var norm = components.TextEncoder.FinalNorm!;
        var expected = penultimate.ToArray();
        norm.Apply(expected);
        Assert.Equal(expected, inputs.HiddenStates.AsSpan(0, expected.Length).ToArray());
        // The same norm turns the last layer into last_hidden_state: it is the export's own final norm.
        var lastLayer = RunTextEncoder(Path.Combine(models.ModelFor(HiddenStates), "text_encoder", "model.onnx"), ids, "hidden_states.2", "last_hidden_state");
        Assert.True(norm.RelativeError(lastLayer.First, lastLayer.Second) < 1e-5);
        Assert.NotEqual(last, expected);
    }

    [Fact]
    public void Generate_ClipSkipWithoutHiddenStates_IsRejectedSayingSo()
    {
        var error = Assert.Throws<ArgumentException>(() => models.Pipeline.Generate([Request("a red fox") with { ClipSkip = 2 }]));

        Assert.StartsWith("request 0: clip_skip 2 is not available for this model: its text_encoder was exported without the 'hidden_states.N' outputs", error.Message);
    }

    [Theory]
    [InlineData(0, "clip_skip must be at least 1")]
    [InlineData(3, "clip_skip must be between 1 and 2 for this model")]
    public void Generate_ClipSkipOutsideTheEncodersLayers_IsRejected(int clipSkip, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => models.PipelineFor(HiddenStates).Generate([Request("a red fox") with { ClipSkip = clipSkip }]));

        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData(ModelDataType.Float16, false)]
    [InlineData(ModelDataType.Float32, true)]
    public void Load_FindsTheFinalLayerNorm_InFloat16AndInExternalData(ModelDataType dataType, bool externalData)
    {
        var pipeline = models.PipelineFor(HiddenStates with { DataType = dataType, ExternalData = externalData });

        Assert.Equal(2, pipeline.Model.Prompts!.MaxClipSkip);
        ImageAssert.NotFlat(pipeline.Generate([Request("a red fox") with { ClipSkip = 2 }])[0]);
    }

    [Fact]
    public void Load_TheOptimizedCopyOfAnExportWithHiddenStates_KeepsClipSkip()
    {
        var cache = Path.Combine(models.CopyOfDefaultModel(), "optimized");
        using var pipeline = DiffusionPipeline.Load(models.ModelFor(HiddenStates),
            Cpu with { Optimize = ModelOptimization.Auto, OptimizedModelCache = cache });

        Assert.Equal(2, pipeline.Model.Prompts!.MaxClipSkip);
        var optimized = pipeline.Generate([Request("a red fox") with { ClipSkip = 2 }])[0];
        var original = models.PipelineFor(HiddenStates).Generate([Request("a red fox") with { ClipSkip = 2 }])[0];
        Assert.True(ImageAssert.MaxAbsoluteDifference(original, optimized) <= 1);
    }

    [Fact]
    public void Generate_OnAUNetWithAFixedTextSequence_TakesOneChunkAndSaysWhyNotMore()
    {
        var pipeline = models.PipelineFor(new TinyModelOptions { StaticTextSequence = true });

        Assert.Equal(1, pipeline.Model.Prompts!.FixedChunks);
        ImageAssert.NotFlat(pipeline.Generate([Request("a red fox")])[0]);
        var error = Assert.Throws<PromptTooLongException>(() => pipeline.Generate([Request(Long(6))]));
        Assert.StartsWith("the prompt needs 2 chunks of 75 tokens, but this model's UNet was exported with a fixed text sequence of 77 tokens (1 chunk)", error.Message);
    }

    private static ModelComponents LoadComponents(string directory) => ModelComponents.Load(directory, Cpu, NullLogger.Instance);

    /// <summary>Two outputs of the text encoder for one row of ids, straight from ONNX Runtime.</summary>
    private static (float[] First, float[] Second) RunTextEncoder(string path, int[] ids, string first, string second)
    {
        using var session = new InferenceSession(path);
        using var input = OrtValue.CreateTensorValueFromMemory(ids, [1, ids.Length]);
        using var outputs = session.Run(new RunOptions(), ["input_ids"], [input], [first, second]);
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[1].GetTensorDataAsSpan<float>().ToArray());
    }
}
