using Microsoft.Extensions.Logging;

namespace DiffusionEngine.Pipelines;

internal static partial class PipelineLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Information,
        Message = "Loaded model {ModelName} ({ModelKind}) from {ModelDirectory} on {ExecutionProvider} in {ElapsedMs} ms (default scheduler {Scheduler})")]
    public static partial void ModelLoaded(ILogger logger, string modelName, string modelDirectory, string executionProvider, long elapsedMs, string scheduler, string modelKind);

    [LoggerMessage(EventId = 201, Level = LogLevel.Debug,
        Message = "Generating {BatchSize} image(s) {Width}x{Height} ({Mode}), {Steps} steps, scheduler {Scheduler}, guidance pass {Guidance}")]
    public static partial void GenerationStarted(ILogger logger, int batchSize, int width, int height, int steps, string scheduler, bool guidance, string mode);

    [LoggerMessage(EventId = 202, Level = LogLevel.Debug,
        Message = "Generated {BatchSize} image(s) in {ElapsedMs} ms")]
    public static partial void GenerationCompleted(ILogger logger, int batchSize, long elapsedMs);

    [LoggerMessage(EventId = 203, Level = LogLevel.Debug,
        Message = "Generation of {BatchSize} image(s) cancelled")]
    public static partial void GenerationCancelled(ILogger logger, int batchSize);

    [LoggerMessage(EventId = 206, Level = LogLevel.Warning,
        Message = "Model {ModelName} has its text encoder's hidden states, but clip skip is not available: {Reason}")]
    public static partial void ClipSkipUnavailable(ILogger logger, string modelName, string reason);

    [LoggerMessage(EventId = 204, Level = LogLevel.Information,
        Message = "Model {ModelName} runs optimised graphs ({Optimization}) from {CacheDirectory} (written now: {Written}, {ElapsedMs} ms)")]
    public static partial void UsingOptimizedGraphs(ILogger logger, string modelName, string optimization, string cacheDirectory, bool written, long elapsedMs);

    [LoggerMessage(EventId = 205, Level = LogLevel.Warning,
        Message = "Could not optimise model {ModelName}; loading its own graphs: {Reason}")]
    public static partial void OptimizationFailed(ILogger logger, string modelName, string reason);
}
