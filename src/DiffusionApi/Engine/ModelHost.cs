namespace DiffusionApi.Engine;

/// <summary>
/// Where the service stands with its model: loading, ready (loaded and warmed up), draining. Written by the worker
/// and the shutdown hook, read by endpoints and the readiness probe. Owns the loaded engine and disposes it with the app.
/// </summary>
public sealed class ModelHost : IDisposable
{
    private volatile IGenerationEngine? _engine;
    private volatile bool _warmedUp;
    private volatile bool _draining;
    private volatile string? _loadError;

    /// <summary>The loaded engine, or null while the model is loading.</summary>
    public IGenerationEngine? Engine => _engine;

    public bool IsReady => _engine is not null && _warmedUp && !_draining && _loadError is null;

    public bool IsDraining => _draining;

    public void SetLoaded(IGenerationEngine engine) => _engine = engine;

    public void SetWarmedUp() => _warmedUp = true;

    public void SetDraining() => _draining = true;

    public void SetLoadFailed(string message) => _loadError = message;

    public void Dispose() => _engine?.Dispose();

    /// <summary>A sentence for the readiness probe and for 503 answers.</summary>
    public string Describe() =>
        _loadError is not null ? $"the model failed to load: {_loadError}"
        : _draining ? "the service is shutting down"
        : _engine is null ? "the model is loading"
        : !_warmedUp ? "the model is warming up"
        : "ready";
}
