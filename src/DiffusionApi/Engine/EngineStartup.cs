using DiffusionApi.Options;
using DiffusionEngine.Pipelines;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Engine;

/// <summary>
/// Model loading and readiness: loads the configured model off the host's threads, runs one small warm-up generation,
/// and records each stage on <see cref="ModelHost"/> (which the readiness probe reads). A model that fails to load
/// marks the host failed and stops the application with exit code 1: a service without its model must not look alive.
/// Concurrency: called once, by the worker.
/// </summary>
public sealed partial class EngineStartup(
    IGenerationEngineLoader loader,
    ModelHost host,
    IOptions<LimitsOptions> limits,
    IOptions<ModelOptions> modelOptions,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<EngineStartup> logger)
{
    /// <summary>The loaded, warmed-up engine; or null and why not (the service stopped first, or the model failed to load).</summary>
    public Task<(IGenerationEngine? Engine, string? Failure)> LoadAsync(CancellationToken cancellationToken) =>
        RunLoadAsync(() => Task.Run(() => LoadAndWarmUp(cancellationToken), cancellationToken), cancellationToken);

    private async Task<(IGenerationEngine? Engine, string? Failure)> RunLoadAsync(Func<Task<IGenerationEngine>> load, CancellationToken cancellationToken)
    {
        try
        {
            return (await load(), null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return (null, "the service stopped before the model was loaded");
        }
        catch (Exception ex)
        {
            LogModelLoadFailed(logger, ex);
            host.SetLoadFailed(ex.Message);
            // Not rethrown: the worker's drain awaits the caller on stop, and an exception out of the host's StopAsync
            // would escape app.Run() and abort the process (exit 134, unflushed logs) instead of exiting with 1. The
            // stop waits for the host to finish starting (Register runs at once if it has): stopping a host mid-start
            // also makes app.Run() throw.
            Environment.ExitCode = 1;
            lifetime.ApplicationStarted.Register(lifetime.StopApplication);
            return (null, $"the model failed to load: {ex.Message}");
        }
    }

    /// <summary>
    /// For an API-only node: reads what the model accepts (no sessions stay loaded, no warm-up) and marks the host ready,
    /// so that endpoints validate requests as the workers will. A failure stops the service as in <see cref="LoadAsync"/>.
    /// </summary>
    public async Task<string?> DescribeAsync(CancellationToken cancellationToken)
    {
        var (engine, failure) = await RunLoadAsync(async () =>
        {
            var started = time.GetTimestamp();
            var model = await Task.Run(() => loader.Describe(cancellationToken), cancellationToken);
            var described = new DescribedModel(model);
            host.SetLoaded(described);
            host.SetWarmedUp();
            LogDescribed(logger, model.Name, time.GetElapsedTime(started).TotalMilliseconds);
            return (IGenerationEngine)described;
        }, cancellationToken);
        return engine is null ? failure : null;
    }

    private IGenerationEngine LoadAndWarmUp(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var engine = loader.Load(cancellationToken);
        host.SetLoaded(engine);
        if (modelOptions.Value.WarmUp)
        {
            var warmUp = new GenerationRequest
            {
                Prompt = "warm-up",
                Width = limits.Value.MinWidth,
                Height = limits.Value.MinHeight,
                Steps = Math.Max(2, limits.Value.MinSteps),
                Seed = 0,
            };
            engine.Generate([warmUp], null, cancellationToken);
        }
        host.SetWarmedUp();
        LogReady(logger, engine.Model.Name, time.GetElapsedTime(started).TotalMilliseconds);
        return engine;
    }

    [LoggerMessage(1, LogLevel.Information, "Model {ModelName} ready after {ElapsedMs:F0} ms")]
    private static partial void LogReady(ILogger logger, string modelName, double elapsedMs);

    [LoggerMessage(3, LogLevel.Information, "API-only node: model {ModelName} described after {ElapsedMs:F0} ms; no sessions kept, no worker")]
    private static partial void LogDescribed(ILogger logger, string modelName, double elapsedMs);

    [LoggerMessage(2, LogLevel.Critical, "The model failed to load; the service cannot generate images")]
    private static partial void LogModelLoadFailed(ILogger logger, Exception exception);
}
