using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;

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
}
