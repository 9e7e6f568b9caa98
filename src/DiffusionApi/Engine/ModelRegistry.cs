using DiffusionApi.Extensions;
using DiffusionApi.Options;
using DiffusionEngine.Pipelines;
using DiffusionEngine.TinyModel;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Engine;

/// <summary>
/// The models the service serves (<c>Diffusion:Models</c>, or the single <c>Diffusion:Model:Path</c>) and which of them
/// are loaded. A model loads on demand (<see cref="AcquireAsync"/>); with <c>Diffusion:Models:MaxLoaded</c> reached, the
/// least recently used model that no lease holds is unloaded first, and when every loaded model is held the load waits
/// until one is let go. A held model is never unloaded: the batch running on it keeps it to its end. Also where the
/// service stands (ready once the start-up models loaded, draining, failed), which the readiness probe reads.
/// On an API-only node (<c>Diffusion:Node:Role=Api</c>) models are only described (loaded on the CPU, read and freed at
/// once) for the endpoints to validate against; nothing is acquired there.
/// Concurrency: any thread. One load at a time; acquiring a loaded model never waits for a load.
/// </summary>
public sealed partial class ModelRegistry : IDisposable
{
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _loading = new(1, 1);
    private readonly CancellationTokenSource _disposed = new();
    private readonly Entry[] _entries;
    private readonly IGenerationEngineLoader _loader;
    private readonly Action<IGenerationEngine, CancellationToken> _warmUp;
    private readonly ILogger _logger;
    private readonly bool _describeOnly;
    private TaskCompletionSource _released = NewSignal();
    private long _clock;
    private volatile bool _started;
    private volatile bool _draining;
    private volatile string? _startError;

    public ModelRegistry(
        IOptions<ModelOptions> model,
        IOptions<ModelsOptions> models,
        IOptions<LimitsOptions> limits,
        IOptions<NodeOptions> node,
        IGenerationEngineLoader loader,
        ILogger<ModelRegistry> logger)
    {
        _describeOnly = node.Value.IsApiOnly;
        _entries = [.. Definitions(model.Value, models.Value).Select(d => new Entry(d))];
        MaxLoaded = models.Value.MaxLoaded;
        _loader = loader;
        _logger = logger;
        var warmUp = model.Value.WarmUp;
        var minimum = limits.Value;
        _warmUp = (engine, cancellationToken) =>
        {
            if (!warmUp) return;
            var request = new GenerationRequest
            {
                Prompt = "warm-up",
                Width = minimum.MinWidth,
                Height = minimum.MinHeight,
                Steps = Math.Max(2, minimum.MinSteps),
                Seed = 0,
            };
            engine.Generate([request], null, cancellationToken);
        };
    }

    /// <summary>The configured models in order; the first is the default.</summary>
    public IReadOnlyList<ModelDefinition> Models => Array.ConvertAll(_entries, e => e.Definition);

    public ModelDefinition Default => _entries[0].Definition;

    /// <summary>How many models may be loaded at once; 0 = no bound.</summary>
    public int MaxLoaded { get; }

    /// <summary>The model named <paramref name="name"/> (case-insensitively); the default when it is null or empty; null when none has that name.</summary>
    public ModelDefinition? Find(string? name)
    {
        if (string.IsNullOrEmpty(name)) return Default;
        foreach (var entry in _entries)
        {
            if (string.Equals(entry.Definition.Name, name, StringComparison.OrdinalIgnoreCase)) return entry.Definition;
        }
        return null;
    }

    /// <summary>The 400 message for a request whose <paramref name="field"/> names no model: the value and every name.</summary>
    public string UnknownModel(string field, string name, string listedAt = "GET /v1/models") =>
        $"{field} must be one of {string.Join(", ", _entries.Select(e => $"'{e.Definition.Name}'"))} ({listedAt}) but was '{ControlCharacters.Escape(name)}'";

    public IReadOnlyList<ModelStatus> Statuses()
    {
        lock (_gate) return Array.ConvertAll(_entries, StatusOf);
    }

    public ModelStatus StatusOf(ModelDefinition model)
    {
        lock (_gate) return StatusOf(EntryOf(model));
    }

    /// <summary>
    /// What <paramref name="model"/> is (its kind, defaults, prompt reader): known without loading once it has loaded
    /// before; otherwise it is loaded now (as <see cref="AcquireAsync"/> does) and stays loaded for the job that follows.
    /// </summary>
    /// <exception cref="ModelLoadFailedException">It had to be loaded and did not load.</exception>
    public async Task<ModelInfo> DescribeAsync(ModelDefinition model, CancellationToken cancellationToken)
    {
        var entry = EntryOf(model);
        lock (_gate)
        {
            if (entry.Info is { } known) return known;
        }
        if (!_describeOnly)
        {
            using var lease = await AcquireAsync(model, cancellationToken);
            return lease.Engine.Model;
        }
        await _loading.WaitAsync(cancellationToken);
        try
        {
            lock (_gate)
            {
                if (entry.Info is { } describedMeanwhile) return describedMeanwhile;
            }
            var info = await Task.Run(() => Fail(entry, () => _loader.Describe(model, _disposed.Token)), CancellationToken.None);
            lock (_gate) entry.Info = info;
            return info;
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>
    /// A lease on <paramref name="model"/>, loaded first when it is not (after unloading the least recently used idle
    /// model when <see cref="MaxLoaded"/> are loaded; waiting while every loaded model is held). Dispose it when done.
    /// </summary>
    /// <exception cref="ModelLoadFailedException">The model did not load (the next acquisition tries again).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired while waiting.</exception>
    public async Task<ModelLease> AcquireAsync(ModelDefinition model, CancellationToken cancellationToken)
    {
        if (_describeOnly) throw new InvalidOperationException("an API-only node (Diffusion:Node:Role=Api) loads no models");
        var entry = EntryOf(model);
        if (TryLease(entry) is { } held) return held;
        await _loading.WaitAsync(cancellationToken);
        try
        {
            if (TryLease(entry) is { } loadedMeanwhile) return loadedMeanwhile;
            await MakeRoomAsync(cancellationToken);
            lock (_gate) entry.State = ModelState.Loading;
            // Not cancelled by the caller: a load half done is wasted; the service's stop (Dispose) still ends it.
            var engine = await Task.Run(() => Fail(entry, () => LoadAndWarmUp(entry.Definition)), CancellationToken.None);
            lock (_gate)
            {
                if (_disposed.IsCancellationRequested)
                {
                    engine.Dispose();
                    throw new ObjectDisposedException(nameof(ModelRegistry));
                }
                entry.Engine = engine;
                entry.Info = engine.Model;
                entry.State = ModelState.Loaded;
                entry.LastError = null;
                return LeaseLocked(entry);
            }
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>Runs a load; a failure marks the model failed (with why) and is thrown as a <see cref="ModelLoadFailedException"/>.</summary>
    private T Fail<T>(Entry entry, Func<T> load)
    {
        try
        {
            return load();
        }
        catch (Exception ex)
        {
            lock (_gate)
            {
                entry.State = ModelState.Failed;
                entry.LastError = ex.Message;
            }
            LogLoadFailed(_logger, entry.Definition.Name, ex);
            throw new ModelLoadFailedException(entry.Definition.Name, ex);
        }
    }

    private IGenerationEngine LoadAndWarmUp(ModelDefinition model)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var engine = _loader.Load(model, _disposed.Token);
        try
        {
            _warmUp(engine, _disposed.Token);
        }
        catch
        {
            engine.Dispose();
            throw;
        }
        LogLoaded(_logger, model.Name, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return engine;
    }

    /// <summary>Unloads least recently used idle models until one more fits; waits for a lease to end while none is idle. Holds the load lock.</summary>
    private async Task MakeRoomAsync(CancellationToken cancellationToken)
    {
        if (MaxLoaded == 0) return;
        while (true)
        {
            Task released;
            Entry? victim = null;
            IGenerationEngine? unloaded = null;
            lock (_gate)
            {
                if (_entries.Count(e => e.Engine is not null) < MaxLoaded) return;
                foreach (var candidate in _entries)
                {
                    if (candidate.Engine is not null && candidate.Leases == 0 && (victim is null || candidate.LastUsed < victim.LastUsed)) victim = candidate;
                }
                if (victim is not null)
                {
                    unloaded = victim.Engine;
                    victim.Engine = null;
                    victim.State = ModelState.Unloaded;
                }
                released = _released.Task;
            }
            if (victim is not null)
            {
                unloaded!.Dispose();
                LogUnloaded(_logger, victim.Definition.Name, MaxLoaded);
                continue;
            }
            LogWaitingForRoom(_logger, MaxLoaded);
            await released.WaitAsync(cancellationToken);
        }
    }

    private ModelLease? TryLease(Entry entry)
    {
        lock (_gate) return entry.Engine is null ? null : LeaseLocked(entry);
    }

    private ModelLease LeaseLocked(Entry entry)
    {
        entry.Leases++;
        entry.LastUsed = ++_clock;
        var engine = entry.Engine!;
        return new ModelLease(engine, () => Release(entry));
    }

    private void Release(Entry entry)
    {
        lock (_gate)
        {
            entry.Leases--;
            entry.LastUsed = ++_clock;
            if (entry.Leases > 0) return;
            _released.TrySetResult();
            _released = NewSignal();
        }
    }

    private Entry EntryOf(ModelDefinition model) =>
        Array.Find(_entries, e => e.Definition == model) ?? throw new ArgumentException($"'{model.Name}' is not a configured model", nameof(model));

    private static ModelStatus StatusOf(Entry entry) => new(entry.Definition, entry.State, entry.Info, entry.LastError);

    /// <summary>The list of <c>Diffusion:Models</c>, or the single model of <c>Diffusion:Model</c> named after its folder.</summary>
    private static List<ModelDefinition> Definitions(ModelOptions model, ModelsOptions models)
    {
        if (models.Entries.Count == 0)
        {
            var name = model.Path.Length == 0
                ? TinyModelBuilder.DefaultModelName
                : System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(model.Path)));
            return [new ModelDefinition(name, model.Path, model.ExecutionProvider, Preload: true, IsDefault: true)];
        }
        return [.. models.Entries.Select((e, i) => new ModelDefinition(
            e.Name, e.Path, e.ExecutionProvider.Length > 0 ? e.ExecutionProvider : model.ExecutionProvider, Preload: i == 0 || e.Preload, IsDefault: i == 0))];
    }

    // Readiness: the start-up models loaded, not draining, nothing failed at start.

    public bool IsReady => _started && !_draining && _startError is null;

    public bool IsDraining => _draining;

    /// <summary>True once the start-up models loaded; before that, requests get 503 instead of loading models themselves.</summary>
    public bool IsStarted => _started;

    public void SetStarted() => _started = true;

    public void SetDraining() => _draining = true;

    public void SetStartFailed(string message) => _startError = message;

    /// <summary>A sentence for the readiness probe and for 503 answers.</summary>
    public string Describe() =>
        _startError is not null ? _startError
        : _draining ? "the service is shutting down"
        : !_started ? "the model is loading"
        : "ready";

    public void Dispose()
    {
        _disposed.Cancel();
        lock (_gate)
        {
            foreach (var entry in _entries)
            {
                entry.Engine?.Dispose();
                entry.Engine = null;
                entry.State = ModelState.Unloaded;
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>One configured model's slot. Guarded by <see cref="_gate"/>.</summary>
    private sealed class Entry(ModelDefinition definition)
    {
        public ModelDefinition Definition { get; } = definition;
        public ModelState State { get; set; }
        public IGenerationEngine? Engine { get; set; }
        public ModelInfo? Info { get; set; }
        public string? LastError { get; set; }
        public int Leases { get; set; }
        public long LastUsed { get; set; }
    }

    [LoggerMessage(1, LogLevel.Information, "Model {ModelName} loaded and ready after {ElapsedMs:F0} ms")]
    private static partial void LogLoaded(ILogger logger, string modelName, double elapsedMs);

    [LoggerMessage(2, LogLevel.Information, "Unloaded model {ModelName}, the least recently used idle one, to make room (Diffusion:Models:MaxLoaded = {MaxLoaded})")]
    private static partial void LogUnloaded(ILogger logger, string modelName, int maxLoaded);

    [LoggerMessage(3, LogLevel.Information, "Waiting for a running batch to end before a model can be unloaded (Diffusion:Models:MaxLoaded = {MaxLoaded})")]
    private static partial void LogWaitingForRoom(ILogger logger, int maxLoaded);

    [LoggerMessage(4, LogLevel.Error, "Model {ModelName} failed to load")]
    private static partial void LogLoadFailed(ILogger logger, string modelName, Exception exception);
}
