using System.Diagnostics;
using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;

namespace DiffusionApi.Bench;

/// <summary>
/// The same work the service does per request, called directly: StableDiffusionPipeline.Generate for one image,
/// then PNG encoding with the infotext. No HTTP, no queue.
/// </summary>
public static class InProcessBaseline
{
    public static RunResult Run(string modelDirectory, BenchSettings settings, int batchSize)
    {
        using var pipeline = StableDiffusionPipeline.Load(modelDirectory);
        var sampler = pipeline.Model.DefaultScheduler;
        GenerationRequest Request(int i) => new()
        {
            Prompt = $"bench {i}",
            Width = settings.Size,
            Height = settings.Size,
            Steps = settings.Steps,
            Seed = (ulong)i,
        };
        // Warm-up, as the service does before it reports ready.
        pipeline.Generate([Request(0)]);

        var latencies = new List<double>();
        var total = Stopwatch.StartNew();
        for (var i = 0; i < settings.Requests; i += batchSize)
        {
            var started = Stopwatch.GetTimestamp();
            var batch = new GenerationRequest[Math.Min(batchSize, settings.Requests - i)];
            for (var j = 0; j < batch.Length; j++) batch[j] = Request(i + j);
            foreach (var image in pipeline.Generate(batch))
            {
                ImageEncoder.Encode(image, ImageFormat.Png, InfoText.Format(image.Request, sampler, pipeline.Model.Name));
            }
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        total.Stop();
        return new RunResult($"in-process, batch {batchSize}", settings.Requests, total.Elapsed, [.. latencies]);
    }
}
