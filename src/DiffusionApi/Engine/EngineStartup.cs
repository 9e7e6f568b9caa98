namespace DiffusionApi.Engine;

/// <summary>
/// Loads the models the service starts with (the default and every <c>Preload</c> one, each warmed up) through the
/// <see cref="ModelRegistry"/>, then marks the service started (the readiness probe reads it). An API-only node only
/// describes the default model instead (<see cref="DescribeAsync"/>). A start-up model that fails to load marks the
/// registry failed and stops the application with exit code 1: a service without its model must not look alive.
/// Concurrency: called once, by the worker.
/// </summary>
public sealed partial class EngineStartup(
    ModelRegistry registry,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<EngineStartup> logger)
{
    /// <summary>Null once the start-up models are loaded; else why not (the service stopped first, or a model failed to load).</summary>
    public Task<string?> LoadAsync(CancellationToken cancellationToken) => RunAsync(async () =>
    {
        foreach (var model in registry.Models.Where(m => m.Preload))
        {
            using var lease = await registry.AcquireAsync(model, cancellationToken);
        }
    }, cancellationToken);

    /// <summary>
    /// For an API-only node: reads what the default model accepts (no sessions stay loaded, no warm-up; other models are
    /// described on their first request) and marks the service started, so that endpoints validate requests as the
    /// workers will. A failure stops the service as in <see cref="LoadAsync"/>.
    /// </summary>
    public Task<string?> DescribeAsync(CancellationToken cancellationToken) => RunAsync(async () =>
    {
        var started = time.GetTimestamp();
        var model = await registry.DescribeAsync(registry.Default, cancellationToken);
        LogDescribed(logger, model.Name, time.GetElapsedTime(started).TotalMilliseconds);
    }, cancellationToken);

    private async Task<string?> RunAsync(Func<Task> start, CancellationToken cancellationToken)
    {
        try
        {
            await start();
            registry.SetStarted();
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return "the service stopped before the model was loaded";
        }
        catch (Exception ex)
        {
            LogModelLoadFailed(logger, ex);
            registry.SetStartFailed(ex.Message);
            // Not rethrown: the worker's drain awaits the caller on stop, and an exception out of the host's StopAsync
            // would escape app.Run() and abort the process (exit 134, unflushed logs) instead of exiting with 1. The
            // stop waits for the host to finish starting (Register runs at once if it has): stopping a host mid-start
            // also makes app.Run() throw.
            Environment.ExitCode = 1;
            lifetime.ApplicationStarted.Register(lifetime.StopApplication);
            return ex.Message;
        }
    }

    [LoggerMessage(3, LogLevel.Information, "API-only node: model {ModelName} described after {ElapsedMs:F0} ms; no sessions kept, no worker")]
    private static partial void LogDescribed(ILogger logger, string modelName, double elapsedMs);

    [LoggerMessage(2, LogLevel.Critical, "A model the service starts with failed to load; the service cannot generate images")]
    private static partial void LogModelLoadFailed(ILogger logger, Exception exception);
}
