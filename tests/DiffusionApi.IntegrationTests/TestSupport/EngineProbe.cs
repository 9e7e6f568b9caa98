using DiffusionApi.Engine;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Text;

namespace DiffusionApi.IntegrationTests.TestSupport;

/// <summary>
/// Watches (and when a test asks, holds up or breaks) the REAL engine: it wraps the loaded
/// <see cref="PipelineEngine"/> instead of replacing it. Used for what cannot be caused for real from outside:
/// a worker held busy at a known moment, an engine exception, and seeing which requests reached the engine.
/// </summary>
public sealed class EngineProbe
{
    private readonly List<IReadOnlyList<GenerationRequest>> _batches = [];
    private readonly List<string> _batchModels = [];
    private readonly List<string> _events = [];
    private volatile TaskCompletionSource? _gate;
    private readonly TaskCompletionSource _loadGate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _entered = new(0);

    public EngineProbe(bool holdLoading = false)
    {
        if (!holdLoading) _loadGate.SetResult();
    }

    private int _cancelledCalls;

    /// <summary>Engine calls that were cancelled while held.</summary>
    public int CancelledCalls => Volatile.Read(ref _cancelledCalls);

    /// <summary>A prompt that makes the engine call throw (an ORT fault stand-in).</summary>
    public string? FailingPrompt { get; set; }

    /// <summary>Every batch that reached the engine (warm-up excluded), in order.</summary>
    public IReadOnlyList<IReadOnlyList<GenerationRequest>> Batches
    {
        get { lock (_batches) return [.. _batches]; }
    }

    public IEnumerable<string> PromptsSeen => Batches.SelectMany(b => b.Select(r => r.Prompt));

    /// <summary>The model each of <see cref="Batches"/> ran on, in the same order.</summary>
    public IReadOnlyList<string> BatchModels
    {
        get { lock (_batches) return [.. _batchModels]; }
    }

    /// <summary>"load NAME" and "unload NAME" in the order the registry loaded and disposed engines.</summary>
    public IReadOnlyList<string> ModelEvents
    {
        get { lock (_events) return [.. _events]; }
    }

    internal void Record(string modelEvent)
    {
        lock (_events) _events.Add(modelEvent);
    }

    private volatile int _holdAfterPreviewStep;

    /// <summary>From now on, an engine call that hands out a live preview after <paramref name="step"/> waits there until <see cref="Release"/>.</summary>
    public void HoldAfterPreview(int step)
    {
        _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _holdAfterPreviewStep = step;
    }

    /// <summary>From now on, engine calls wait until <see cref="Release"/>.</summary>
    public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _gate?.TrySetResult();

    public void ReleaseLoading() => _loadGate.TrySetResult();

    /// <summary>Waits until a held engine call has started (the worker is busy).</summary>
    public async Task WaitForHeldCallAsync(TimeSpan timeout)
    {
        if (!await _entered.WaitAsync(timeout)) throw new TimeoutException("no engine call started");
    }

    internal void WaitForLoading() => _loadGate.Task.Wait();

    internal IReadOnlyList<GeneratedImage> Generate(IGenerationEngine inner, IReadOnlyList<GenerationRequest> batch, IProgress<StepProgress>? progress, CancellationToken cancellationToken)
    {
        var isWarmUp = batch.Count == 1 && batch[0].Prompt == "warm-up";
        if (!isWarmUp)
        {
            lock (_batches)
            {
                _batches.Add(batch);
                _batchModels.Add(inner.Model.Name);
            }
            if (_holdAfterPreviewStep > 0 && _gate is { } previewGate)
            {
                // Hold mid-run instead: the real engine runs, and waits after the asked step's preview was handed out.
                var held = new HeldAfterPreview(progress, _holdAfterPreviewStep, () => _entered.Release(), previewGate.Task, cancellationToken);
                return inner.Generate(batch, held, cancellationToken);
            }
            if (_gate is { } gate)
            {
                _entered.Release();
                try
                {
                    gate.Task.Wait(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref _cancelledCalls);
                    throw;
                }
            }
            if (FailingPrompt is { } failing && batch.Any(r => r.Prompt == failing))
                throw new InvalidOperationException("simulated ONNX Runtime fault");
        }
        return inner.Generate(batch, progress, cancellationToken);
    }
}

/// <summary>Forwards progress and previews to the engine's own observer, then holds after one step's preview.</summary>
internal sealed class HeldAfterPreview(IProgress<StepProgress>? inner, int step, Action entered, Task gate, CancellationToken cancellationToken)
    : IProgress<StepProgress>, ILatentPreviewObserver
{
    public void Report(StepProgress value) => inner?.Report(value);

    public bool WantsPreview(int current, int totalSteps) => inner is ILatentPreviewObserver observer && observer.WantsPreview(current, totalSteps);

    public void OnPreview(LatentFrame frame, int current, int totalSteps)
    {
        ((ILatentPreviewObserver)inner!).OnPreview(frame, current, totalSteps);
        if (current != step) return;
        entered();
        gate.Wait(cancellationToken);
    }
}

/// <summary>Loads the real engine through <see cref="PipelineEngineLoader"/> and wraps it with an <see cref="EngineProbe"/>.</summary>
public sealed class ProbedEngineLoader(PipelineEngineLoader inner, EngineProbe probe) : IGenerationEngineLoader
{
    public IGenerationEngine Load(ModelDefinition model, CancellationToken cancellationToken)
    {
        probe.WaitForLoading();
        var engine = new ProbedEngine(inner.Load(model, cancellationToken), probe);
        probe.Record("load " + model.Name);
        return engine;
    }

    private sealed class ProbedEngine(IGenerationEngine inner, EngineProbe probe) : IGenerationEngine
    {
        public ModelInfo Model => inner.Model;

        public IReadOnlyList<GeneratedImage> Generate(IReadOnlyList<GenerationRequest> batch, IProgress<StepProgress>? progress, CancellationToken cancellationToken) =>
            probe.Generate(inner, batch, progress, cancellationToken);

        public void Dispose()
        {
            probe.Record("unload " + inner.Model.Name);
            inner.Dispose();
        }
    }
}
