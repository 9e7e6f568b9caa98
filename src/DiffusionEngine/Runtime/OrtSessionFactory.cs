using DiffusionEngine.Models;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Runtime;

/// <summary>
/// Resolves the execution provider once (so <see cref="ExecutionProviderKind.Auto"/> warns at most once per model)
/// and creates every ONNX Runtime session of a model with the same options. Owns the <see cref="SessionOptions"/>.
/// </summary>
internal sealed class OrtSessionFactory : IDisposable
{
    private readonly SessionOptions _options;

    private OrtSessionFactory(SessionOptions options, string providerName)
    {
        _options = options;
        ProviderName = providerName;
    }

    /// <summary>"CUDA" or "CPU": the provider sessions actually run on.</summary>
    public string ProviderName { get; }

    /// <summary>
    /// Builds session options for <paramref name="kind"/>. <see cref="ExecutionProviderKind.Auto"/> falls back to CPU
    /// with one warning naming what could not be loaded; <see cref="ExecutionProviderKind.Cuda"/> throws
    /// <see cref="ExecutionProviderUnavailableException"/> instead.
    /// </summary>
    /// <param name="kind">The provider asked for.</param>
    /// <param name="intraOpThreads">Threads ORT uses inside one operator; 0 keeps ORT's default (one per physical core).</param>
    /// <param name="logger">Receives the one fallback warning.</param>
    public static OrtSessionFactory Create(ExecutionProviderKind kind, int intraOpThreads, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(intraOpThreads);
        if (kind == ExecutionProviderKind.Cpu) return new OrtSessionFactory(CreateOptions(intraOpThreads), "CPU");

        var options = CreateOptions(intraOpThreads);
        // ORT's native logger would print its own error line for a provider library that does not load; the exception
        // (with the loader's reason added) becomes our one warning (auto) or the error (cuda). The env level is
        // process-wide, so it is lowered only around the probe.
        var environment = OrtEnv.Instance();
        var logLevel = environment.EnvLogLevel;
        environment.EnvLogLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
        try
        {
            options.AppendExecutionProvider_CUDA(0);
            return new OrtSessionFactory(options, "CUDA");
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
        {
            options.Dispose();
            var reason = CudaLoadDiagnostics.Describe(FirstLine(ex.Message));
            if (kind == ExecutionProviderKind.Cuda)
            {
                throw new ExecutionProviderUnavailableException(kind,
                    $"The CUDA execution provider is not available: {reason}. It needs an NVIDIA GPU with the CUDA 13 and cuDNN 9 " +
                    "runtime libraries on the library path; use the 'cpu' or 'auto' provider on machines without them.", ex);
            }
            RuntimeLog.CudaUnavailableFallingBackToCpu(logger, reason);
            return new OrtSessionFactory(CreateOptions(intraOpThreads), "CPU");
        }
        finally
        {
            environment.EnvLogLevel = logLevel;
        }
    }

    /// <summary>
    /// Creates a session for the model at <paramref name="modelPath"/> (external data beside it is found by ORT).
    /// A file ORT cannot parse becomes a <see cref="ModelLoadException"/> naming the path.
    /// </summary>
    public InferenceSession CreateSession(string modelPath)
    {
        try
        {
            return new InferenceSession(modelPath, _options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelLoadException(modelPath,
                $"ONNX Runtime could not load it as an ONNX model (is it a complete, valid .onnx file with its external data beside it?): {FirstLine(ex.Message)}",
                ex);
        }
    }

    public void Dispose() => _options.Dispose();

    private static SessionOptions CreateOptions(int intraOpThreads)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        if (intraOpThreads > 0) options.IntraOpNumThreads = intraOpThreads;
        return options;
    }

    private static string FirstLine(string message)
    {
        var trimmed = message.Trim();
        var newline = trimmed.IndexOf('\n');
        return newline < 0 ? trimmed : trimmed[..newline].TrimEnd();
    }
}
