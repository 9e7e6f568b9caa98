using DiffusionEngine.Pipelines;
using DiffusionEngine.Tests.Text.Prompts;
using DiffusionEngine.Text.Prompts;

namespace DiffusionEngine.Tests.Pipelines;

/// <summary>The one batch key: what it holds for each mode and kind, the strength rule, prompt chunks, and its stable string form.</summary>
public sealed class BatchKeyTests(TinyTokenizers tokenizers) : IClassFixture<TinyTokenizers>
{
    private ModelInfo Sd => new("m", "/m", "pndm", 77, "CPU")
    {
        Capabilities = [GenerationMode.TextToImage, GenerationMode.ImageToImage, GenerationMode.Inpaint],
        Prompts = new PromptReader(tokenizers.EosPadded),
    };

    private ModelInfo Lcm => new("lcm", "/lcm", "lcm", 77, "CPU") { Kind = ModelKind.LatentConsistency, Prompts = new PromptReader(tokenizers.EosPadded) };

    private ModelInfo InpaintingUNet => new("inpaint", "/inpaint", "pndm", 77, "CPU")
    {
        Kind = ModelKind.StableDiffusionInpaint,
        Capabilities = [GenerationMode.Inpaint],
        Prompts = new PromptReader(tokenizers.EosPadded),
    };

    /// <summary>A prompt of <paramref name="words"/> one-token words (single letters are tokens of the tiny vocabulary).</summary>
    private static string Words(int words) => string.Join(' ', Enumerable.Range(0, words).Select(i => ((char)('a' + i % 26)).ToString()));

    private static GenerationRequest Request => new() { Prompt = "a red fox", Width = 512, Height = 768, Steps = 20, GuidanceScale = 7.5f };

    [Fact]
    public void For_TextToImage_StartsAtStepZeroWithTheModelsSchedulerResolved()
    {
        Assert.Equal(new BatchKey(512, 768, 20, "pndm", GenerationMode.TextToImage, 0, true), BatchKey.For(Request, Sd));
        Assert.Equal("euler_a", BatchKey.For(Request with { Scheduler = "Euler a" }, Sd).Scheduler);
    }

    [Fact]
    public void StepsThatRun_CountsPndmsWarmUpStep_AndLeavesOutTheStepsStrengthSkips()
    {
        var plms = DiffusionEngine.Schedulers.SchedulerConfig.Empty.With("skip_prk_steps", true);

        Assert.Equal(21, BatchKey.For(Request, Sd).StepsThatRun(plms));
        Assert.Equal(20, BatchKey.For(Request with { Scheduler = "euler" }, Sd).StepsThatRun(plms));
        Assert.Equal(11, new BatchKey(512, 768, 20, "pndm", GenerationMode.ImageToImage, FirstStep: 10, true).StepsThatRun(plms));
    }

    [Fact]
    public void For_GuidanceAtMostOne_HasNoUnconditionalPass()
    {
        Assert.False(BatchKey.For(Request with { GuidanceScale = 1f }, Sd).UnconditionalPass);
        Assert.False(BatchKey.For(Request with { GuidanceScale = 0f }, Sd).UnconditionalPass);
        Assert.True(BatchKey.For(Request with { GuidanceScale = 1.01f }, Sd).UnconditionalPass);
    }

    [Fact]
    public void For_AnLcmModel_NeverHasAnUnconditionalPass()
    {
        Assert.False(BatchKey.For(Request with { GuidanceScale = 8.5f }, Lcm).UnconditionalPass);
    }

    [Theory]
    [InlineData(20, 1.0, 0)]    // all 20 steps run
    [InlineData(20, 0.8, 4)]    // ⌊16⌋ run, from index 4
    [InlineData(10, 0.7, 3)]    // ⌊7.000000000000001⌋ = 7 (a double, as Python computes it)
    [InlineData(10, 0.15, 9)]   // one step
    [InlineData(3, 0.34, 2)]    // ⌊1.02⌋ = 1
    public void FirstStepOf_IsDiffusersGetTimesteps(int steps, double strength, int first)
    {
        Assert.Equal(first, BatchKey.FirstStepOf(steps, strength));
    }

    [Theory]
    [InlineData(10, 0.05)]
    [InlineData(3, 0.3)]
    public void FirstStepOf_AStrengthThatLeavesNoStep_SaysWhatWouldWork(int steps, double strength)
    {
        var error = Assert.Throws<ArgumentException>(() => BatchKey.FirstStepOf(steps, strength));

        Assert.Contains($"with {steps} steps leaves no denoising step to run", error.Message);
        Assert.Contains("use a strength of at least", error.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.5)]
    [InlineData(1.0001)]
    [InlineData(double.NaN)]
    public void FirstStepOf_AStrengthOutsideZeroToOne_IsRejected(double strength)
    {
        var error = Assert.Throws<ArgumentException>(() => BatchKey.FirstStepOf(20, strength));

        Assert.StartsWith("strength must be greater than 0 and at most 1 but was", error.Message);
    }

    [Fact]
    public void For_ImageInputs_TakeTheModesAndTheStrengthsFirstStep()
    {
        var image = TestImages.Gradient(64, 64);
        var img2img = BatchKey.For(Request with { InitImage = image, Strength = 0.5 }, Sd);
        var img2imgDefault = BatchKey.For(Request with { InitImage = image }, Sd);
        var inpaint = BatchKey.For(Request with { InitImage = image, Mask = TestImages.RectangleMask(64, 64, 0, 0, 8, 8) }, Sd);

        Assert.Equal((GenerationMode.ImageToImage, 10), (img2img.Mode, img2img.FirstStep));
        Assert.Equal(4, img2imgDefault.FirstStep); // diffusers' default strength 0.8
        Assert.Equal((GenerationMode.Inpaint, 0), (inpaint.Mode, inpaint.FirstStep)); // inpainting's default strength 1
    }

    [Fact]
    public void For_AModeTheModelCannotRun_SaysWhy()
    {
        var error = Assert.Throws<ArgumentException>(() => BatchKey.For(Request, InpaintingUNet));

        Assert.StartsWith("this model (sd-inpaint) cannot run txt2img: it supports inpaint (an inpainting UNet needs an init image and a mask)", error.Message);
    }

    [Fact]
    public void For_CountsThePromptsChunks_AndTheNegativePromptsOnlyWithTheUnconditionalPass()
    {
        Assert.Equal(1, BatchKey.For(Request with { Prompt = Words(75) }, Sd).PromptChunks);
        Assert.Equal(2, BatchKey.For(Request with { Prompt = Words(76) }, Sd).PromptChunks);
        Assert.Equal(3, BatchKey.For(Request with { Prompt = "a BREAK b BREAK c" }, Sd).PromptChunks);
        // The negative prompt is padded with the prompt, so the longer of the two decides...
        Assert.Equal(2, BatchKey.For(Request with { NegativePrompt = Words(100) }, Sd).PromptChunks);
        // ...unless it is not encoded at all: guidance ≤ 1, or an LCM model.
        Assert.Equal(1, BatchKey.For(Request with { NegativePrompt = Words(100), GuidanceScale = 1f }, Sd).PromptChunks);
        Assert.Equal(1, BatchKey.For(Request with { NegativePrompt = Words(100) }, Lcm).PromptChunks);
        // Plain syntax reads one window, whatever the length.
        Assert.Equal(1, BatchKey.For(Request with { Prompt = Words(200), PromptSyntax = PromptSyntax.Plain }, Sd).PromptChunks);
    }

    [Fact]
    public void For_APromptBeyondTheChunkLimit_IsRejectedNamingIt()
    {
        var model = Sd with { Prompts = new PromptReader(tokenizers.EosPadded, maxChunks: 2) };

        var prompt = Assert.Throws<PromptTooLongException>(() => BatchKey.For(Request with { Prompt = Words(151) }, model));
        var negative = Assert.Throws<PromptTooLongException>(() => BatchKey.For(Request with { NegativePrompt = Words(151) }, model));

        Assert.Equal("the prompt needs 3 chunks of 75 tokens but at most 2 are allowed (MaxPromptChunks)", prompt.Message);
        Assert.StartsWith("the negative prompt needs 3 chunks", negative.Message);
    }

    [Fact]
    public void For_AUNetWithAFixedTextSequence_PadsEveryPromptToIt_AndRejectsLongerOnes()
    {
        var oneChunk = Sd with { Prompts = new PromptReader(tokenizers.EosPadded, fixedChunks: 1) };
        var twoChunks = Sd with { Prompts = new PromptReader(tokenizers.EosPadded, fixedChunks: 2) };

        Assert.Equal(2, BatchKey.For(Request, twoChunks).PromptChunks);
        var error = Assert.Throws<PromptTooLongException>(() => BatchKey.For(Request with { Prompt = Words(80) }, oneChunk));
        Assert.True(error.LimitedByModel);
        Assert.StartsWith("the prompt needs 2 chunks of 75 tokens, but this model's UNet was exported with a fixed text sequence of 77 tokens (1 chunk)", error.Message);
    }

    [Fact]
    public void For_WithoutAPromptReader_SaysWhatIsMissing()
    {
        var error = Assert.Throws<ArgumentException>(() => BatchKey.For(Request, Sd with { Prompts = null }));

        Assert.StartsWith("the model description has no prompt reader (ModelInfo.Prompts)", error.Message);
    }

    [Fact]
    public void ToString_IsStableAndParsesBack()
    {
        var key = new BatchKey(512, 768, 20, "dpmpp_2m_karras", GenerationMode.Inpaint, 4, true);

        Assert.Equal("512x768/steps=20/scheduler=dpmpp_2m_karras/mode=inpaint/first=4/uncond=1", key.ToString());
        Assert.True(BatchKey.TryParse(key.ToString(), out var parsed));
        Assert.Equal(key, parsed);
    }

    [Fact]
    public void ToString_OfAMultiChunkKey_AppendsTheChunks_AndASingleChunkKeyReadsAsBeforeChunksWereCounted()
    {
        var single = new BatchKey(512, 512, 20, "pndm", GenerationMode.TextToImage, 0, true, PromptChunks: 1);
        var triple = single with { PromptChunks = 3 };

        Assert.Equal("512x512/steps=20/scheduler=pndm/mode=txt2img/first=0/uncond=1", single.ToString());
        Assert.Equal("512x512/steps=20/scheduler=pndm/mode=txt2img/first=0/uncond=1/chunks=3", triple.ToString());
        Assert.True(BatchKey.TryParse(triple.ToString(), out var parsed));
        Assert.Equal(triple, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("512x512/steps=20/scheduler=pndm/mode=txt2img/first=0/uncond=1/chunks=1")] // not canonical: one chunk is written without the field
    [InlineData("512x512/steps=20/scheduler=pndm/mode=txt2img/first=0/uncond=1/chunks=0")]
    [InlineData("512x512/steps=20/scheduler=pndm/mode=txt2img/first=0/uncond=1/chunks=two")]
    [InlineData("512x512/steps=20/scheduler=pndm/mode=txt2img/first=0/uncond=1/chunks=2/x=1")]
    [InlineData("512x512/steps=20/scheduler=pndm/mode=txt2img/first=0")]
    [InlineData("512x512/steps=20/scheduler=pndm/mode=outpaint/first=0/uncond=1")]
    [InlineData("512x512/steps=20/scheduler=pndm/mode=txt2img/first=0/uncond=yes")]
    [InlineData("512x512/steps=+20/scheduler=pndm/mode=txt2img/first=0/uncond=1")]
    public void TryParse_RejectsAnythingElse(string text)
    {
        Assert.False(BatchKey.TryParse(text, out _));
    }
}
