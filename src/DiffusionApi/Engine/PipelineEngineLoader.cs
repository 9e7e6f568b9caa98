using DiffusionApi.Options;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Runtime;
using DiffusionEngine.TinyModel;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Engine;

/// <summary>
/// Loads a configured model's folder, or the built-in tiny model (created on first use) when its path is empty, with the
/// ONNX Runtime settings of <c>Diffusion:Model</c> and the model's own execution provider.
/// </summary>
public sealed partial class PipelineEngineLoader(
    IOptions<ModelOptions> modelOptions,
    IOptions<DiffusionOptions> serviceOptions,
    IOptions<LimitsOptions> limits,
    ILoggerFactory loggerFactory) : IGenerationEngineLoader
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<PipelineEngineLoader>();

    public IGenerationEngine Load(ModelDefinition model, CancellationToken cancellationToken) =>
        new PipelineEngine(LoadPipeline(model, describeOnly: false, cancellationToken), model.Name);

    /// <summary>On the CPU with one thread and without graph optimisation, whatever is configured: an API node needs no GPU.</summary>
    public ModelInfo Describe(ModelDefinition model, CancellationToken cancellationToken)
    {
        using var pipeline = LoadPipeline(model, describeOnly: true, cancellationToken);
        return pipeline.Model with { Name = model.Name };
    }

    private DiffusionPipeline LoadPipeline(ModelDefinition model, bool describeOnly, CancellationToken cancellationToken)
    {
        var options = modelOptions.Value;
        var directory = model.Path;
        var dataDirectory = DataDirectory.Resolve(serviceOptions.Value);
        if (directory.Length == 0)
        {
            directory = TinyModelBuilder.EnsureDefault(dataDirectory, target => LogWritingTinyModel(_logger, target));
            LogUsingTinyModel(_logger, directory);
        }
        cancellationToken.ThrowIfCancellationRequested();
        var pipelineOptions = new PipelineOptions
        {
            ExecutionProvider = describeOnly ? ExecutionProviderKind.Cpu : Enum.Parse<ExecutionProviderKind>(model.ExecutionProvider, ignoreCase: true),
            IntraOpThreads = describeOnly ? 1 : options.IntraOpThreads,
            MaxPromptChunks = limits.Value.MaxPromptChunks,
            Optimize = describeOnly ? ModelOptimization.Off : Enum.Parse<ModelOptimization>(options.Optimize, ignoreCase: true),
            OptimizedModelCache = Path.Combine(dataDirectory, "optimized"),
            Cuda = new CudaSettings
            {
                ConvAlgorithmSearch = options.CudaConvAlgorithmSearch,
                PreferNhwc = options.CudaPreferNhwc,
                ArenaExtendStrategy = options.CudaArenaExtendStrategy,
                CudaGraph = options.CudaGraphs,
            },
        };
        var pipeline = DiffusionPipeline.Load(directory, pipelineOptions, loggerFactory);
        LogLoaded(_logger, model.Name, directory, pipeline.Model.ExecutionProvider);
        return pipeline;
    }

    [LoggerMessage(1, LogLevel.Information, "No model path configured; using the built-in tiny model at {ModelDirectory}")]
    private static partial void LogUsingTinyModel(ILogger logger, string modelDirectory);

    [LoggerMessage(3, LogLevel.Information, "First start: writing the built-in tiny model to {ModelDirectory} (set Diffusion:Model:Path or Diffusion:Models to serve a real model)")]
    private static partial void LogWritingTinyModel(ILogger logger, string modelDirectory);

    [LoggerMessage(2, LogLevel.Information, "Loaded model {ModelName} from {ModelDirectory} on {ExecutionProvider}")]
    private static partial void LogLoaded(ILogger logger, string modelName, string modelDirectory, string executionProvider);
}
