using System.Diagnostics;
using DiffusionEngine.Pipelines;

namespace DiffusionEngine.Tests.Pipelines;

/// <summary>Observes a generation through the engine's activities and progress reports.</summary>
internal static class PipelineProbes
{
    /// <summary>The UNet batch size (the denoise activity's diffusion.unet_batch_size tag) of every generation <paramref name="generate"/> runs.</summary>
    public static List<int> CaptureUNetBatchSizes(Action generate)
    {
        var sizes = new List<int>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == DiffusionTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.OperationName == DiffusionTelemetry.DenoiseActivity && activity.GetTagItem("diffusion.unet_batch_size") is int size)
                {
                    lock (sizes) sizes.Add(size);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        generate();
        return sizes;
    }

    /// <summary>Every step report of one generation.</summary>
    public static List<StepProgress> Steps(DiffusionPipeline pipeline, GenerationRequest request)
    {
        var reports = new List<StepProgress>();
        pipeline.Generate([request], new Inline(reports.Add));
        return reports;
    }

    /// <summary>The most bytes the generating thread allocated between two consecutive step reports over the first few steps of <paramref name="request"/>.</summary>
    public static long MaxBytesAllocatedPerStep(DiffusionPipeline pipeline, GenerationRequest request)
    {
        const int measuredSteps = 4;
        var allocated = new List<long>();
        using var cancellation = new CancellationTokenSource();
        var progress = new Inline(report =>
        {
            allocated.Add(GC.GetAllocatedBytesForCurrentThread());
            if (report.Step == measuredSteps) cancellation.Cancel();
        });
        // Cancelled before the VAE so only the loop is measured.
        Assert.ThrowsAny<OperationCanceledException>(() => pipeline.Generate([request], progress, cancellation.Token));

        long max = 0;
        for (var i = 1; i < allocated.Count; i++) max = Math.Max(max, allocated[i] - allocated[i - 1]);
        return max;
    }

    /// <summary>Reports on the generating thread at once (what the allocation and cancellation tests rely on).</summary>
    public sealed class Inline(Action<StepProgress> report) : IProgress<StepProgress>
    {
        public void Report(StepProgress value) => report(value);
    }
}
