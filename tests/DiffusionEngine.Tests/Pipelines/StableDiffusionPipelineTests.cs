using System.Collections.Concurrent;
using System.Diagnostics;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Tests.TestSupport;

namespace DiffusionEngine.Tests.Pipelines;

/// <summary>Text-to-image on the tiny model: determinism, batching, guidance, progress and cancellation.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class StableDiffusionPipelineTests(TinyModelFixture models)
{
    private DiffusionPipeline Pipeline => models.Pipeline;

    internal static GenerationRequest Request(string prompt = "a red fox in the snow", ulong seed = 42, float guidance = 7.5f, int size = 64, int steps = 3) =>
        new() { Prompt = prompt, Seed = seed, GuidanceScale = guidance, Width = size, Height = size, Steps = steps };

    [Fact]
    public void Generate_WithTheSameSeed_GivesIdenticalBytes()
    {
        var first = Pipeline.Generate([Request()])[0];
        var second = Pipeline.Generate([Request()])[0];

        Assert.Equal(first.Rgb, second.Rgb);
        Assert.Equal(64, first.Width);
        Assert.Equal(64 * 64 * 3, first.Rgb.Length);
        Assert.Equal(42UL, first.Seed);
    }

    [Fact]
    public void Generate_WithAnotherSeed_GivesAnotherImage()
    {
        var first = Pipeline.Generate([Request(seed: 1)])[0];
        var second = Pipeline.Generate([Request(seed: 2)])[0];

        Assert.True(ImageAssert.MaxAbsoluteDifference(first, second) > 10);
    }

    [Fact]
    public void Generate_WithTheGpuRng_DrawsOtherNoiseThanTheCpuRng()
    {
        var cpu = Pipeline.Generate([Request() with { Rng = RngKind.Cpu }])[0];
        var gpu = Pipeline.Generate([Request() with { Rng = RngKind.Gpu }])[0];

        Assert.NotEqual(cpu.Rgb, gpu.Rgb);
    }

    [Fact]
    public void Generate_GivesAnImageThatIsNotFlat() => ImageAssert.NotFlat(Pipeline.Generate([Request()])[0]);

    [Fact]
    public void Generate_ImageOfABatchEqualsTheSameRequestRunAlone()
    {
        GenerationRequest[] batch =
        [
            Request("a red fox in the snow", seed: 7, guidance: 7.5f),
            Request("a lighthouse at dusk", seed: 1234, guidance: 1.5f) with { NegativePrompt = "blurry" },
            Request("an astronaut riding a horse", seed: 99, guidance: 3f) with { NegativePrompt = "low quality", Rng = RngKind.Gpu },
        ];

        var together = Pipeline.Generate(batch);

        ImageAssert.EachEqualsItsRequestAlone(Pipeline, batch, together);
    }

    [Fact]
    public void Generate_WithEveryGuidanceAtMostOne_SkipsTheUnconditionalPass()
    {
        var unetBatchSizes = PipelineProbes.CaptureUNetBatchSizes(() =>
        {
            var withNegative = Pipeline.Generate([Request(guidance: 1f) with { NegativePrompt = "something else entirely" }, Request(guidance: 0.5f)]);
            var withoutNegative = Pipeline.Generate([Request(guidance: 1f), Request(guidance: 0.5f)]);
            // Without the uncond pass the negative prompt cannot change anything.
            Assert.Equal(withoutNegative[0].Rgb, withNegative[0].Rgb);
        });

        Assert.Equal([2, 2], unetBatchSizes);
    }

    [Fact]
    public void Generate_WithGuidanceAboveOne_RunsTheUNetAtTwiceTheBatch()
    {
        var unetBatchSizes = PipelineProbes.CaptureUNetBatchSizes(() => Pipeline.Generate([Request(guidance: 1.5f), Request(guidance: 7.5f)]));

        Assert.Equal([4], unetBatchSizes);
    }

    [Fact]
    public void Generate_WithGuidanceAboveAndAtMostOneInOneBatch_IsRejectedBecauseTheirBatchKeysDiffer()
    {
        // The unconditional pass is part of the batch key: a guidance-1 request never pays for a doubled UNet batch.
        var runsBefore = Pipeline.RunTimer.Calls;

        var error = Assert.ThrowsAny<ArgumentException>(() => Pipeline.Generate([Request(guidance: 1f), Request(guidance: 7.5f)]));

        Assert.Contains("every request of a batch must agree on the unconditional pass", error.Message);
        Assert.Equal(runsBefore, Pipeline.RunTimer.Calls);
    }

    [Fact]
    public void Generate_WithGuidance_ChangesWithTheNegativePrompt()
    {
        var plain = Pipeline.Generate([Request()])[0];
        var negative = Pipeline.Generate([Request() with { NegativePrompt = "a lighthouse at dusk" }])[0];

        Assert.NotEqual(plain.Rgb, negative.Rgb);
    }

    [Fact]
    public void Generate_ReportsProgressAfterEveryStep()
    {
        var reports = new List<StepProgress>();

        Pipeline.Generate([Request(steps: 4) with { Scheduler = "euler" }], new PipelineProbes.Inline(reports.Add));

        Assert.Equal([1, 2, 3, 4], reports.ConvertAll(report => report.Step));
        Assert.All(reports, report => Assert.Equal(4, report.TotalSteps));
        Assert.All(reports, report => Assert.True(report.StepDuration > TimeSpan.Zero));
    }

    [Fact]
    public void Generate_ReportsEveryUNetStepOfTheSchedule()
    {
        // PNDM (the tiny model's own scheduler, as SD 1.5's) runs steps + 1 UNet evaluations, as in diffusers.
        var reports = new List<StepProgress>();

        Pipeline.Generate([Request(steps: 4)], new PipelineProbes.Inline(reports.Add));

        var total = reports[0].TotalSteps;
        Assert.True(total >= 4);
        Assert.Equal(Enumerable.Range(1, total), reports.ConvertAll(report => report.Step));
    }

    [Fact]
    public void Generate_WhenCancelledDuringAStep_StopsBeforeTheNextStep()
    {
        using var cancellation = new CancellationTokenSource();
        var steps = new List<int>();
        var progress = new PipelineProbes.Inline(report =>
        {
            steps.Add(report.Step);
            if (report.Step == 2) cancellation.Cancel();
        });
        var runsBefore = Pipeline.RunTimer.Calls;

        Assert.ThrowsAny<OperationCanceledException>(() => Pipeline.Generate([Request(steps: 6)], progress, cancellation.Token));

        Assert.Equal([1, 2], steps);
        Assert.Equal(runsBefore + 1 + 2, Pipeline.RunTimer.Calls); // text encoder + two UNet steps, no VAE
    }

    [Fact]
    public void Generate_WhenCancelledAfterTheLastStepCheck_AbortsTheModelRunThroughTheTerminateFlag()
    {
        using var cancellation = new CancellationTokenSource();
        // The VAE activity starts after the last between-steps check, right before its Run: cancelling there leaves
        // only ONNX Runtime's terminate flag to stop the work.
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == DiffusionTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = activity =>
            {
                if (activity.OperationName == DiffusionTelemetry.VaeDecodeActivity) cancellation.Cancel();
            },
        };
        ActivitySource.AddActivityListener(listener);

        var error = Assert.ThrowsAny<OperationCanceledException>(() => Pipeline.Generate([Request(steps: 2)], null, cancellation.Token));

        Assert.IsType<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>(error.InnerException);
        Assert.Equal(cancellation.Token, error.CancellationToken);
    }

    [Fact]
    public void Generate_WhenAlreadyCancelled_RunsNoModel()
    {
        var runsBefore = Pipeline.RunTimer.Calls;

        Assert.ThrowsAny<OperationCanceledException>(() => Pipeline.Generate([Request()], null, new CancellationToken(canceled: true)));

        Assert.Equal(runsBefore, Pipeline.RunTimer.Calls);
    }

    [Fact]
    public void Generate_StepLoopAllocationsDoNotGrowWithTheLatentSize()
    {
        // 4×64×64 vs 4×128×128 latents: one latent-sized float array would be 64 KiB vs 256 KiB.
        var small = AllocationMeasurement.Fewest(() => MaxBytesAllocatedPerStep(size: 512));
        var large = AllocationMeasurement.Fewest(() => MaxBytesAllocatedPerStep(size: 1024));

        Assert.True(large <= small + 1024, $"a step allocated {large} bytes at 1024×1024 but {small} bytes at 512×512");
        Assert.True(large < 16 * 1024, $"a step allocated {large} bytes");
    }

    [Fact]
    public void Generate_RentsItsWorkingBuffers_SoOnlyTheReturnedImageGrowsWithTheSize()
    {
        // Per generation, only the caller's RGB array may grow with the image: latents, the CFG-doubled UNet input and
        // output, hidden states and the VAE's float pixels (3·W·H floats) come from ArrayPool. Each size runs once first
        // so the pool holds its buffers.
        var small = AllocationMeasurement.Fewest(() => BytesAllocatedByGenerate(size: 128));
        var large = AllocationMeasurement.Fewest(() => BytesAllocatedByGenerate(size: 256));
        var rgbGrowth = 3 * (256 * 256 - 128 * 128);

        Assert.True(large - small <= rgbGrowth + 16 * 1024,
            $"Generate allocated {large} bytes at 256×256 but {small} bytes at 128×128; only the RGB output should grow ({rgbGrowth} bytes)");
    }

    [Fact]
    public void Generate_WithReusedBuffers_GivesTheSameBytesAfterOtherGenerations()
    {
        var first = Pipeline.Generate([Request(seed: 5)])[0];
        Pipeline.Generate([Request("another prompt", seed: 6, guidance: 2f), Request("a third", seed: 7)]);
        var again = Pipeline.Generate([Request(seed: 5)])[0];

        Assert.Equal(first.Rgb, again.Rgb);
    }

    [Fact]
    public void Generate_EmitsOneActivityPerStage()
    {
        var names = new ConcurrentQueue<string>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == DiffusionTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => names.Enqueue(activity.OperationName),
        };
        ActivitySource.AddActivityListener(listener);

        Pipeline.Generate([Request()]);

        Assert.Equal([DiffusionTelemetry.TextEncodeActivity, DiffusionTelemetry.DenoiseActivity, DiffusionTelemetry.VaeDecodeActivity], names.ToArray());
    }

    [Fact]
    public void Load_DescribesTheModel()
    {
        var model = Pipeline.Model;

        Assert.Equal(models.DefaultModel, model.Directory);
        Assert.Equal(Path.GetFileName(models.DefaultModel), model.Name);
        Assert.Equal(Pipeline.Tokenizer.MaxLength, model.TokenizerMaxLength);
        Assert.Equal("CPU", model.ExecutionProvider);
        Assert.False(string.IsNullOrEmpty(model.DefaultScheduler));
    }

    private long BytesAllocatedByGenerate(int size)
    {
        // Euler keeps no latent-sized history (PNDM's per-generation ets buffers would grow with the size: scheduler
        // state, not the pipeline's buffers).
        GenerationRequest[] request = [Request(size: size, steps: 2) with { Scheduler = "euler" }];
        Pipeline.Generate(request);
        var before = GC.GetAllocatedBytesForCurrentThread();
        Pipeline.Generate(request);
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private long MaxBytesAllocatedPerStep(int size) =>
        // Guidance 1 keeps the UNet at batch 1.
        PipelineProbes.MaxBytesAllocatedPerStep(Pipeline, Request(size: size, steps: 10, guidance: 1f));
}
