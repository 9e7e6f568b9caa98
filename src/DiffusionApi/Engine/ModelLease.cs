namespace DiffusionApi.Engine;

/// <summary>
/// A hold on a loaded model: while any lease on it is held, <see cref="ModelRegistry"/> never unloads it, so a batch
/// that runs on <see cref="Engine"/> keeps it alive to its end. Disposing ends the hold (once; later calls do nothing).
/// </summary>
public sealed class ModelLease : IDisposable
{
    private readonly Action _release;
    private int _released;

    internal ModelLease(IGenerationEngine engine, Action release)
    {
        Engine = engine;
        _release = release;
    }

    public IGenerationEngine Engine { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0) _release();
    }
}
