using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Text.Prompts;

namespace DiffusionEngine.Tests.Imaging;

public sealed class InfoTextTests
{
    private static readonly GenerationRequest Request = new()
    {
        Prompt = "a photo of a cat",
        NegativePrompt = "blurry, lowres",
        Steps = 20,
        GuidanceScale = 7.5f,
        Width = 512,
        Height = 768,
        Seed = 42,
        Rng = RngKind.Cpu,
    };

    [Fact]
    public void Format_FullRequest_IsA1111Infotext()
    {
        Assert.Equal(
            "a photo of a cat\nNegative prompt: blurry, lowres\n" +
            "Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 42, Size: 512x768, Model: tiny-sd, RNG: CPU",
            InfoText.Format(Request, "Euler a", "tiny-sd"));
    }

    [Fact]
    public void Format_EmptyNegativePrompt_OmitsTheNegativeLine()
    {
        Assert.Equal(
            "a photo of a cat\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7.5, Seed: 42, Size: 512x768, Model: sd15, RNG: CPU",
            InfoText.Format(Request with { NegativePrompt = "" }, "DPM++ 2M Karras", "sd15"));
    }

    [Fact]
    public void Format_GpuRng_IsRecordedAsA1111NvSource() =>
        Assert.EndsWith(", RNG: NV", InfoText.Format(Request with { Rng = RngKind.Gpu }, "Euler a", "tiny-sd"));

    [Fact]
    public void Format_WholeGuidanceScaleAndLargeSeed_UseShortInvariantForms() =>
        Assert.Contains("CFG scale: 7, Seed: 18446744073709551615,",
            InfoText.Format(Request with { GuidanceScale = 7f, Seed = ulong.MaxValue }, "Euler a", "tiny-sd"));

    [Fact]
    public void Format_ValueWithCommaOrColon_IsJsonQuotedLikeA1111() =>
        Assert.Contains("Model: \"v1-5: pruned, \\\"ema\\\"\",",
            InfoText.Format(Request, "Euler a", "v1-5: pruned, \"ema\""));

    [Fact]
    public void Format_EmptyPrompt_TrimsTheLeadingNewline() =>
        Assert.StartsWith("Steps: 20,", InfoText.Format(Request with { Prompt = "", NegativePrompt = "" }, "Euler a", "tiny-sd"));

    [Fact]
    public void Format_ClipSkipAboveOne_IsWrittenAsA1111Does_AndOneIsNot()
    {
        Assert.Equal(
            "a photo of a cat\nNegative prompt: blurry, lowres\n" +
            "Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 42, Size: 512x768, Model: tiny-sd, Clip skip: 2, RNG: CPU",
            InfoText.Format(Request with { ClipSkip = 2 }, "Euler a", "tiny-sd"));
        Assert.DoesNotContain("Clip skip", InfoText.Format(Request, "Euler a", "tiny-sd"));
    }

    [Theory]
    [InlineData(EmphasisMode.NoNorm, "a (red:1.3) cat", "blurry", ", RNG: CPU, Emphasis: No norm")]
    [InlineData(EmphasisMode.Ignore, "a cat", "[blurry]", ", RNG: CPU, Emphasis: Ignore")]
    public void Format_AnEmphasisOtherThanOriginal_IsWrittenLastWhenAPromptHasBrackets(EmphasisMode mode, string prompt, string negative, string ending) =>
        Assert.EndsWith(ending, InfoText.Format(Request with { Prompt = prompt, NegativePrompt = negative, Emphasis = mode }, "Euler a", "tiny-sd"));

    [Theory]
    [InlineData(EmphasisMode.NoNorm, "a cat")]              // no brackets: A1111 leaves it out
    [InlineData(EmphasisMode.Original, "a (red:1.3) cat")]  // A1111's default
    [InlineData(EmphasisMode.Comfy, "a (red:1.3) cat")]     // no A1111 name
    public void Format_Emphasis_IsLeftOutWhereA1111LeavesItOut(EmphasisMode mode, string prompt) =>
        Assert.DoesNotContain("Emphasis", InfoText.Format(Request with { Prompt = prompt, Emphasis = mode }, "Euler a", "tiny-sd"));

    [Fact]
    public void Format_PlainSyntaxWithBrackets_IsA1111sEmphasisNone_WhichReadsBracketsAsText() =>
        Assert.EndsWith(", RNG: CPU, Emphasis: None",
            InfoText.Format(Request with { Prompt = "a (red) cat", PromptSyntax = PromptSyntax.Plain }, "Euler a", "tiny-sd"));
}
