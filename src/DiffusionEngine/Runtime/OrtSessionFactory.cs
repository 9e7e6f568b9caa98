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
    private SessionOptions? _cudaGraphOptions;

    private OrtSessionFactory(SessionOptions options, string providerName, SessionTuning tuning, CudaSettings? cuda)
    {
        _options = options;
        ProviderName = providerName;
        Tuning = tuning;
        Cuda = cuda;
    }

    /// <summary>"CUDA" or "CPU": the provider sessions actually run on.</summary>
    public string ProviderName { get; }

    /// <summary>The CPU-side settings every session was created with.</summary>
    public SessionTuning Tuning { get; }

    /// <summary>The CUDA provider options applied, or null on CPU.</summary>
    public CudaSettings? Cuda { get; }

    /// <summary>
    /// Whether the UNet keeps its inputs and outputs in fixed device buffers (CUDA graphs): only on CUDA with
    /// <see cref="CudaSettings.CudaGraph"/>.
    /// </summary>
    public bool UsesDeviceBuffers => Cuda is { CudaGraph: true };

    /// <summary>The session configuration entries applied (for logs and tests).</summary>
    public IReadOnlyDictionary<string, string> ConfigEntries { get; private init; } = new Dictionary<string, string>();

    /// <summary>
    /// Builds session options for <paramref name="kind"/>. <see cref="ExecutionProviderKind.Auto"/> falls back to CPU
    /// with one warning naming what could not be loaded; <see cref="ExecutionProviderKind.Cuda"/> throws
    /// <see cref="ExecutionProviderUnavailableException"/> instead.
    /// </summary>
    /// <param name="kind">The provider asked for.</param>
    /// <param name="intraOpThreads">Threads ORT uses inside one operator; 0 = one per physical core.</param>
    /// <param name="tuning">Spinning, arena, memory pattern (all providers).</param>
    /// <param name="cuda">CUDA provider options (used when CUDA is chosen).</param>
    /// <param name="logger">Receives the one fallback warning.</param>
    /// <exception cref="ArgumentException">A CUDA option has a value ONNX Runtime does not accept.</exception>
    public static OrtSessionFactory Create(ExecutionProviderKind kind, int intraOpThreads, SessionTuning tuning, CudaSettings cuda, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(intraOpThreads);
        if (kind == ExecutionProviderKind.Cpu) return Cpu(intraOpThreads, tuning);

        // Bad values fail here, on every machine, not only where CUDA loads. CUDA graphs go only to the UNet's session
        // (CreateSession(path, cudaGraph: true)): the text encoder and VAE run once per generation with plain Run.
        var providerOptions = (cuda with { CudaGraph = false }).ToProviderOptions();
        var graphProviderOptions = cuda.CudaGraph ? cuda.ToProviderOptions() : null;
        var (options, entries) = CreateOptions(intraOpThreads, tuning);
        // ORT's native logger would print its own error line for a provider library that does not load; the exception
        // (with the loader's reason added) becomes our one warning (auto) or the error (cuda). The env level is
        // process-wide, so it is lowered only around the probe.
        var environment = OrtEnv.Instance();
        var logLevel = environment.EnvLogLevel;
        environment.EnvLogLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
        try
        {
            AppendCuda(options, providerOptions);
            var factory = new OrtSessionFactory(options, "CUDA", tuning, cuda) { ConfigEntries = entries };
            if (graphProviderOptions is not null)
            {
                factory._cudaGraphOptions = CreateOptions(intraOpThreads, tuning).Options;
                AppendCuda(factory._cudaGraphOptions, graphProviderOptions);
            }
            return factory;
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
            return Cpu(intraOpThreads, tuning);
        }
        finally
        {
            environment.EnvLogLevel = logLevel;
        }
    }

    /// <summary>
    /// Creates a session for the model at <paramref name="modelPath"/> (external data beside it is found by ORT);
    /// <paramref name="cudaGraph"/> asks for the CUDA-graph options when <see cref="UsesDeviceBuffers"/>.
    /// A file ORT cannot parse becomes a <see cref="ModelLoadException"/> naming the path.
    /// </summary>
    public InferenceSession CreateSession(string modelPath, bool cudaGraph = false)
    {
        try
        {
            return new InferenceSession(modelPath, cudaGraph && _cudaGraphOptions is not null ? _cudaGraphOptions : _options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelLoadException(modelPath,
                $"ONNX Runtime could not load it as an ONNX model (is it a complete, valid .onnx file with its external data beside it?): {FirstLine(ex.Message)}",
                ex);
        }
    }

    public void Dispose()
    {
        _options.Dispose();
        _cudaGraphOptions?.Dispose();
    }

    private static void AppendCuda(SessionOptions options, Dictionary<string, string> providerOptions)
    {
        using var cudaOptions = new OrtCUDAProviderOptions();
        cudaOptions.UpdateOptions(providerOptions);
        options.AppendExecutionProvider_CUDA(cudaOptions);
    }

    private static OrtSessionFactory Cpu(int intraOpThreads, SessionTuning tuning)
    {
        var (options, entries) = CreateOptions(intraOpThreads, tuning);
        return new OrtSessionFactory(options, "CPU", tuning, null) { ConfigEntries = entries };
    }

    private static (SessionOptions Options, Dictionary<string, string> Entries) CreateOptions(int intraOpThreads, SessionTuning tuning)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = SessionTuning.ResolveThreads(intraOpThreads),
            EnableMemoryPattern = tuning.MemoryPattern,
            EnableCpuMemArena = tuning.CpuArena,
        };
        var entries = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["session.intra_op.allow_spinning"] = tuning.AllowSpinning ? "1" : "0",
        };
        foreach (var (key, value) in entries) options.AddSessionConfigEntry(key, value);
        if (tuning.ProfilePrefix is { } prefix)
        {
            options.ProfileOutputPathPrefix = prefix; // before EnableProfiling, which passes it to ORT
            options.EnableProfiling = true;
        }
        return (options, entries);
    }

    private static string FirstLine(string message)
    {
        var trimmed = message.Trim();
        var newline = trimmed.IndexOf('\n');
        return newline < 0 ? trimmed : trimmed[..newline].TrimEnd();
    }
}
