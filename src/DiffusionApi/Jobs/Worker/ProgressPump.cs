using DiffusionApi.Extensions;
using System.Threading.Channels;
using DiffusionApi.Telemetry;
using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;

namespace DiffusionApi.Jobs.Worker;

/// <summary>
/// Carries a batch's step progress from the engine's thread to the job store and bus without making the engine wait
/// for them (a shared store is a network hop away): the engine thread only leaves the latest step in a one-slot
/// hand-off; one async loop writes it for every job of the batch, skipping steps it could not keep up with, in order.
/// It is also the engine's <see cref="ILatentPreviewObserver"/>: on the steps a job asked for
/// (<see cref="Model.GenerationSpec.WantsPreviewAfter"/>) it renders the job's first image from the latents (a small RGB
/// copy, the only work on the engine's thread) and a second loop encodes and publishes it.
/// Concurrency: <see cref="Report"/> and the observer calls from the engine's thread; <see cref="ChunkOffset"/> set by
/// the runner between engine calls; dispose once the engine is done (it flushes the last step and previews).
/// </summary>
public sealed class ProgressPump : IProgress<StepProgress>, ILatentPreviewObserver, IAsyncDisposable
{
    /// <summary>Previews waiting to be encoded; beyond it the oldest is dropped (previews are best effort).</summary>
    private const int PreviewBacklog = 8;

    private readonly Channel<(int Step, int TotalSteps)> _latest = Channel.CreateBounded<(int, int)>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true });
    private readonly Channel<Preview> _previews = Channel.CreateBounded<Preview>(
        new BoundedChannelOptions(PreviewBacklog) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true });
    private readonly IReadOnlyList<RunningJob> _jobs;
    private readonly int[] _firstImage;
    private readonly JobLifecycle _lifecycle;
    private readonly DiffusionMetrics _metrics;
    private readonly Task _pump;
    private readonly Task _previewPump;

    public ProgressPump(IReadOnlyList<RunningJob> jobs, JobLifecycle lifecycle, DiffusionMetrics metrics)
    {
        _jobs = jobs;
        _firstImage = new int[jobs.Count];
        for (int i = 0, offset = 0; i < jobs.Count; offset += jobs[i].Job.Spec.Count, i++) _firstImage[i] = offset;
        _lifecycle = lifecycle;
        _metrics = metrics;
        _pump = PumpAsync();
        _previewPump = PumpPreviewsAsync();
    }

    /// <summary>The index, in the batch's request list, of the engine call's first image (the runner calls the engine in chunks).</summary>
    public int ChunkOffset { get; set; }

    public void Report(StepProgress value)
    {
        _metrics.StepDone(value.StepDuration);
        _latest.Writer.TryWrite((value.Step, value.TotalSteps));
    }

    public bool WantsPreview(int step, int totalSteps)
    {
        for (var i = 0; i < _jobs.Count; i++)
        {
            if (InChunk(i, out _, totalSteps) && _jobs[i].Job.Spec.WantsPreviewAfter(step, totalSteps)) return true;
        }
        return false;
    }

    public void OnPreview(LatentFrame frame, int step, int totalSteps)
    {
        for (var i = 0; i < _jobs.Count; i++)
        {
            if (!InChunk(i, out var image, frame.Count) || !_jobs[i].Job.Spec.WantsPreviewAfter(step, totalSteps)) continue;
            var rgb = new byte[frame.Width * frame.Height * 3];
            frame.Render(image, rgb);
            _previews.Writer.TryWrite(new Preview(_jobs[i], step, totalSteps, rgb, frame.Width, frame.Height));
        }
    }

    /// <summary>Whether job <paramref name="job"/>'s first image is in the current engine call, and its index there.</summary>
    private bool InChunk(int job, out int image, int chunkImages)
    {
        image = _firstImage[job] - ChunkOffset;
        return image >= 0 && image < chunkImages;
    }

    public async ValueTask DisposeAsync()
    {
        _latest.Writer.TryComplete();
        _previews.Writer.TryComplete();
        await _pump;
        await _previewPump;
    }

    private async Task PumpAsync()
    {
        await foreach (var (step, totalSteps) in _latest.Reader.ReadAllAsync())
        {
            try
            {
                foreach (var job in _jobs) await _lifecycle.ReportProgressAsync(job.Job, job.Fence, step, totalSteps);
            }
            catch (Exception ex) when (BackendUnavailableHandler.IsBackendUnavailable(ex))
            {
                // Progress is best effort: the engine keeps going through a backend outage, and the next step's write may land.
            }
        }
    }

    private async Task PumpPreviewsAsync()
    {
        await foreach (var preview in _previews.Reader.ReadAllAsync())
        {
            if (preview.Job.LeaseLost) continue;
            var spec = preview.Job.Job.Spec;
            try
            {
                var encoded = ImageEncoder.EncodeRgb(preview.Rgb, preview.Width, preview.Height, spec.OutputFormat, spec.OutputQuality);
                await _lifecycle.PublishPreviewAsync(preview.Job.Job, preview.Step, preview.TotalSteps, encoded);
            }
            catch (Exception ex) when (BackendUnavailableHandler.IsBackendUnavailable(ex))
            {
                // Best effort, like progress.
            }
        }
    }

    private sealed record Preview(RunningJob Job, int Step, int TotalSteps, byte[] Rgb, int Width, int Height);
}
