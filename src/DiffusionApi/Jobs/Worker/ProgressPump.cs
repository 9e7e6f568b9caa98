using DiffusionApi.Extensions;
using System.Threading.Channels;
using DiffusionApi.Telemetry;
using DiffusionEngine.Pipelines;

namespace DiffusionApi.Jobs.Worker;

/// <summary>
/// Carries a batch's step progress from the engine's thread to the job store and bus without making the engine wait
/// for them (a shared store is a network hop away): the engine thread only leaves the latest step in a one-slot
/// hand-off; one async loop writes it for every job of the batch, skipping steps it could not keep up with, in order.
/// Concurrency: <see cref="Report"/> from the engine's thread; dispose once the engine is done (it flushes the last step).
/// </summary>
public sealed class ProgressPump : IProgress<StepProgress>, IAsyncDisposable
{
    private readonly Channel<(int Step, int TotalSteps)> _latest = Channel.CreateBounded<(int, int)>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true });
    private readonly IReadOnlyList<RunningJob> _jobs;
    private readonly JobLifecycle _lifecycle;
    private readonly DiffusionMetrics _metrics;
    private readonly Task _pump;

    public ProgressPump(IReadOnlyList<RunningJob> jobs, JobLifecycle lifecycle, DiffusionMetrics metrics)
    {
        _jobs = jobs;
        _lifecycle = lifecycle;
        _metrics = metrics;
        _pump = PumpAsync();
    }

    public void Report(StepProgress value)
    {
        _metrics.StepDone(value.StepDuration);
        _latest.Writer.TryWrite((value.Step, value.TotalSteps));
    }

    public async ValueTask DisposeAsync()
    {
        _latest.Writer.TryComplete();
        await _pump;
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
}
