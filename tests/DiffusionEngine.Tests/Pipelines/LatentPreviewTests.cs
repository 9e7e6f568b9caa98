using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Tests.TestSupport;
using DiffusionEngine.TinyModel;

namespace DiffusionEngine.Tests.Pipelines;

/// <summary>Live previews: the fixed latent→RGB maps, and the pipeline handing its latents to an observer between steps.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class LatentPreviewTests(TinyModelFixture models)
{
    [Fact]
    public void Render_MapsEachLatentPixelLinearly_PerModelFamily()
    {
        // One latent pixel (4 channels): SD's map of (1, 0, 0, 0) is (0.298, 0.207, 0.208) → (x + 1) / 2 · 255.
        float[] latent = [1f, 0f, 0f, 0f];
        var rgb = new byte[3];

        LatentPreview.Render(ModelKind.StableDiffusion, latent, 1, 1, rgb);
        Assert.Equal([Level(0.298f), Level(0.207f), Level(0.208f)], rgb);

        // SDXL's own factors and bias: zero latents are not mid-grey.
        LatentPreview.Render(ModelKind.StableDiffusionXL, new float[4], 1, 1, rgb);
        Assert.Equal([Level(0.1084f), Level(-0.0175f), Level(-0.0011f)], rgb);

        // Out of range clamps.
        LatentPreview.Render(ModelKind.StableDiffusion, [10f, 10f, 10f, -10f], 1, 1, rgb);
        Assert.Equal([255, 255, 255], rgb);
    }

    [Theory]
    [InlineData(TinyModelPreset.Tiny)]
    [InlineData(TinyModelPreset.TinySdxl)]
    public void Generate_WithAnObserver_ShowsTheLatentsOnTheStepsItAsksFor_WithoutChangingTheImage(TinyModelPreset preset)
    {
        var pipeline = models.PipelineFor(preset);
        var request = new GenerationRequest { Prompt = "a red fox", Width = 64, Height = 64, Steps = 4, Seed = 7 };
        var observer = new Observer(wanted: step => step % 2 == 0);

        var watched = pipeline.Generate([request, request with { Seed = 8 }], observer);
        var plain = pipeline.Generate([request, request with { Seed = 8 }]);

        Assert.Equal(plain[0].Rgb, watched[0].Rgb);
        Assert.Equal(plain[1].Rgb, watched[1].Rgb);
        var total = observer.Asked[^1].Total;
        Assert.Equal(Enumerable.Range(1, total), observer.Asked.Select(a => a.Step));
        Assert.Equal(Enumerable.Range(1, total).Where(s => s % 2 == 0), observer.Previews.Select(p => p.Step));
        foreach (var (_, image0, image1) in observer.Previews)
        {
            Assert.Equal(8 * 8 * 3, image0.Length);
            Assert.True(image0.Distinct().Count() > 8, "the preview is flat");
            Assert.NotEqual(image0, image1); // each image its own latents
        }
    }

    [Fact]
    public void RenderingAPreviewEveryStep_AllocatesNothingThatGrowsWithTheLatents()
    {
        // 4×64×64 vs 4×128×128 latents: copying one image's latents into a new array would be 64 KiB vs 256 KiB.
        var small = AllocationMeasurement.Fewest(() => MaxBytesPerPreviewStep(512));
        var large = AllocationMeasurement.Fewest(() => MaxBytesPerPreviewStep(1024));

        Assert.True(large <= small + 1024, $"a step with a preview allocated {large} bytes at 1024×1024 but {small} bytes at 512×512");
        Assert.True(large < 16 * 1024, $"a step with a preview allocated {large} bytes");
    }

    private long MaxBytesPerPreviewStep(int size)
    {
        var rgb = new byte[(size / 8) * (size / 8) * 3];
        var allocated = new List<long>();
        using var cancellation = new CancellationTokenSource();
        var observer = new RenderingObserver(rgb, step =>
        {
            allocated.Add(GC.GetAllocatedBytesForCurrentThread());
            if (step == 4) cancellation.Cancel();
        });
        var request = new GenerationRequest { Prompt = "a red fox", Width = size, Height = size, Steps = 10, GuidanceScale = 1f, Seed = 1 };
        Assert.ThrowsAny<OperationCanceledException>(() => models.Pipeline.Generate([request], observer, cancellation.Token));
        long max = 0;
        for (var i = 1; i < allocated.Count; i++) max = Math.Max(max, allocated[i] - allocated[i - 1]);
        return max;
    }

    /// <summary>Renders every step into one buffer, and notes each step once its preview is done (on the generating thread).</summary>
    private sealed class RenderingObserver(byte[] rgb, Action<int> rendered) : IProgress<StepProgress>, ILatentPreviewObserver
    {
        public void Report(StepProgress value)
        {
        }

        public bool WantsPreview(int step, int totalSteps) => true;

        public void OnPreview(LatentFrame frame, int step, int totalSteps)
        {
            frame.Render(0, rgb);
            rendered(step);
        }
    }

    private static byte Level(float x) => (byte)MathF.Round((x + 1f) * 0.5f * 255f);

    private sealed class Observer(Func<int, bool> wanted) : IProgress<StepProgress>, ILatentPreviewObserver
    {
        public List<(int Step, int Total)> Asked { get; } = [];
        public List<(int Step, byte[] Image0, byte[] Image1)> Previews { get; } = [];

        public void Report(StepProgress value)
        {
        }

        public bool WantsPreview(int step, int totalSteps)
        {
            Asked.Add((step, totalSteps));
            return wanted(step);
        }

        public void OnPreview(LatentFrame frame, int step, int totalSteps)
        {
            var image0 = new byte[frame.Width * frame.Height * 3];
            var image1 = new byte[image0.Length];
            frame.Render(0, image0);
            frame.Render(1, image1);
            Previews.Add((step, image0, image1));
        }
    }
}
