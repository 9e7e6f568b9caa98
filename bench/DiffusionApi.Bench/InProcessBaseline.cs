using System.Diagnostics;
using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;

namespace DiffusionApi.Bench;

/// <summary>
/// The same work the service does per request, called directly: DiffusionPipeline.Generate, then PNG encoding
/// with the infotext. No HTTP, no queue. Loaded once and warmed up, as the service is before it reports ready.
/// </summary>
public sealed class InProcessBaseline : IDisposable
{
    private readonly DiffusionPipeline _pipeline;
    private readonly BenchSettings _settings;

    public InProcessBaseline(string modelDirectory, BenchSettings settings)
    {
        _pipeline = DiffusionPipeline.Load(modelDirectory);
        _settings = settings;
        _pipeline.Generate([Request(0)]);
    }

    public RunResult Run(int batchSize, int requests)
    {
        var sampler = _pipeline.Model.DefaultScheduler;
        var latencies = new List<double>();
        var total = Stopwatch.StartNew();
        for (var i = 0; i < requests; i += batchSize)
        {
            var started = Stopwatch.GetTimestamp();
            var batch = new GenerationRequest[Math.Min(batchSize, requests - i)];
            for (var j = 0; j < batch.Length; j++) batch[j] = Request(i + j);
            foreach (var image in _pipeline.Generate(batch))
            {
                ImageEncoder.Encode(image, ImageFormat.Png, InfoText.Format(image.Request, sampler, _pipeline.Model.Name));
            }
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        total.Stop();
        return new RunResult($"in-process, batch {batchSize}", requests, total.Elapsed, [.. latencies]);
    }

    public void Dispose() => _pipeline.Dispose();

    private GenerationRequest Request(int i) => new()
    {
        Prompt = $"bench {i}",
        Width = _settings.Size,
        Height = _settings.Size,
        Steps = _settings.Steps,
        Seed = (ulong)i,
    };
}
