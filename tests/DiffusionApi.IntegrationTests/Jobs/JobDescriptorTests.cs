using System.Diagnostics;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionApi.Jobs;
using DiffusionApi.Model;
using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Text;
using DiffusionEngine.Text.Prompts;

namespace DiffusionApi.IntegrationTests.Jobs;

/// <summary>A job descriptor is data: it survives its wire form unchanged, and its batch key is one rule.</summary>
public sealed class JobDescriptorTests
{
    private static readonly GenerationSpec Spec = new("tiny-sd", "a (lighthouse:1.2), at dusk", "fog", 512, 768, 30, 6.5f, ulong.MaxValue - 3, 4,
        "dpmpp_2m_karras", ImageFormat.Webp, RngKind.Gpu, ResponseFormat.Url, "user-7", 80, PromptSyntax.Plain, EmphasisMode.Comfy, ClipSkip: 2);

    private static readonly ModelInfo Model = new("tiny-sd", "/models/tiny-sd", "pndm", 77, "CPU")
    {
        Capabilities = [GenerationMode.TextToImage, GenerationMode.ImageToImage, GenerationMode.Inpaint],
        Prompts = new PromptReader(ClipTokenizer.Load(Path.Combine(SharedTinyModel.Directory, "tokenizer"))),
    };

    [Fact]
    public void Descriptor_RoundTripsThroughJobJson_Unchanged()
    {
        using var request = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();
        var job = JobDescriptor.Create(Spec, JobBatchKey.For(Spec, Model), JobKind.Async, "idem-1", TimeProvider.System);

        var json = JobJson.Serialize(job);
        var back = JobJson.Deserialize<JobDescriptor>(json);

        Assert.Equal(json, JobJson.Serialize(back));
        Assert.Equal(job, back);
        Assert.Equal(request.Id, back.TraceParent);
        Assert.Equal(request.TraceId.ToString(), JobTrace.TraceIdOf(back));
        Assert.Equal(Spec.ToEngineRequests(), back.Spec.ToEngineRequests());
    }

    [Fact]
    public void ASpecWithImages_RoundTripsThroughJobJson_WithTheSameBytesAndPixels()
    {
        var init = TestImages.Gradient();
        var mask = TestImages.LuminanceMask(64, 64, (x, _) => x < 32);
        var spec = Spec with
        {
            Width = 64, Height = 64, InitImage = new EncodedImage(init), Mask = new EncodedImage(mask), Strength = 0.6,
            MaskConvention = MaskConvention.Transparency, MaskBlur = 3,
            Overlay = new InpaintOverlay(new EncodedImage(init), new EncodedImage(mask), new CropRegion(8, 0, 56, 64)),
        };

        var json = JobJson.Serialize(spec);
        var back = JobJson.Deserialize<GenerationSpec>(json);

        Assert.Equal(spec, back);
        Assert.Equal(Convert.ToBase64String(init), JsonDocument.Parse(json).RootElement.GetProperty("initImage").GetString());
        var (sent, received) = (spec.ToEngineRequests()[1], back.ToEngineRequests()[1]);
        Assert.Equal(sent.InitImage!.Pixels, received.InitImage!.Pixels);
        Assert.Equal(sent.Mask!.Pixels, received.Mask!.Pixels);
        Assert.Equal((0.6, MaskConvention.Transparency, 3), (received.Strength, received.MaskConvention, received.MaskBlur));
        Assert.Equal(new CropRegion(8, 0, 56, 64), back.Overlay!.Region);
    }

    [Fact]
    public void EverySpecProperty_IsPartOfTheWireForm()
    {
        // A field added to the spec without a wire form would silently vanish on its way to another replica.
        var json = JsonDocument.Parse(JobJson.Serialize(Spec)).RootElement;

        foreach (var property in typeof(GenerationSpec).GetProperties().Where(p => p.GetIndexParameters().Length == 0))
            Assert.True(json.TryGetProperty(JobJson.Options.PropertyNamingPolicy!.ConvertName(property.Name), out _), $"{property.Name} is missing from {json}");
        Assert.Equal("Webp", json.GetProperty("outputFormat").GetString());
        Assert.Equal(("Plain", "Comfy", 2), (json.GetProperty("promptSyntax").GetString(), json.GetProperty("emphasis").GetString(), json.GetProperty("clipSkip").GetInt32()));
    }

    [Fact]
    public void Snapshot_RoundTripsThroughJobJson_Unchanged()
    {
        var job = JobDescriptor.Create(Spec, JobBatchKey.For(Spec, Model), JobKind.Sync, null, TimeProvider.System);
        var snapshot = new JobSnapshot(job, JobState.Failed, 3, 30, true, null, 2, [new JobImageRef(9, "0123456789abcdef0123456789abcdef", "image/webp")],
            new JobFailure("encoding or storing the image failed", false), DateTimeOffset.UnixEpoch);

        var json = JobJson.Serialize(snapshot);

        Assert.Equal(json, JobJson.Serialize(JobJson.Deserialize<JobSnapshot>(json)));
    }

    [Fact]
    public void WithoutATraceContext_TheDescriptorHasNoTraceParent()
    {
        Activity.Current = null;

        var job = JobDescriptor.Create(Spec, JobBatchKey.For(Spec, Model), JobKind.Sync, null, TimeProvider.System);

        Assert.Null(job.TraceParent);
        Assert.Equal("", JobTrace.TraceIdOf(job));
        Assert.Matches("^job_[0-9a-f]{32}$", job.Id);
    }

    [Fact]
    public void BatchKey_IsEqualForJobsTheEngineCanRunTogether()
    {
        var other = Spec with { Prompt = "something else", NegativePrompt = "", GuidanceScale = 2, Seed = 1, Count = 1, Rng = RngKind.Cpu, OutputFormat = ImageFormat.Png, User = null };

        Assert.Equal(JobBatchKey.For(Spec, Model), JobBatchKey.For(other, Model));
        Assert.Equal("512x768/steps=30/scheduler=dpmpp_2m_karras/mode=txt2img/first=0/uncond=1/model=tiny-sd", JobBatchKey.For(Spec, Model));
    }

    [Fact]
    public void BatchKey_IsTheEngineKeyOfTheJobsImages_PlusTheModel()
    {
        foreach (var request in Spec.ToEngineRequests())
            Assert.Equal($"{BatchKey.For(request, Model)}/model=tiny-sd", JobBatchKey.For(Spec, Model));
    }

    public static TheoryData<GenerationSpec> Incompatible() =>
    [
        Spec with { Model = "other" },
        Spec with { Width = 768 },
        Spec with { Height = 512 },
        Spec with { Steps = 31 },
        Spec with { Scheduler = "euler" },
        Spec with { Scheduler = null },
        Spec with { GuidanceScale = 1 }, // no unconditional pass: it must not pay for a doubled UNet batch
        Spec with { Prompt = "a lighthouse BREAK at dusk", PromptSyntax = PromptSyntax.A1111 }, // two chunks
    ];

    [Theory]
    [MemberData(nameof(Incompatible))]
    public void BatchKey_DiffersWhenTheEngineCannotRunThemTogether(GenerationSpec other)
    {
        Assert.NotEqual(JobBatchKey.For(Spec, Model), JobBatchKey.For(other, Model));
    }
}
