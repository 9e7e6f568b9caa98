using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using DiffusionEngine.Pipelines;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Runtime;

/// <summary>What <see cref="UNetBenchmark.Measure"/> found for one configuration.</summary>
/// <remarks>
/// <see cref="MinSecondsPerCall"/> (the fastest later call) and <see cref="CpuSecondsPerCall"/> (this process's CPU time
/// per later call, all threads) are the figures to compare on a shared machine, where other work stretches wall times.
/// </remarks>
public sealed record UNetMeasurement(string Provider, string CallMode, double LoadSeconds, double FirstCallSeconds, double SecondsPerCall,
    double MinSecondsPerCall, double CpuSecondsPerCall, long PeakRssBytes)
{
    /// <summary>The ONNX Runtime profile written for every call (first included), when profiling was on; else null.</summary>
    public string? ProfilePath { get; init; }
}

/// <summary>
/// Times the UNet alone through the pipeline's own code path (<see cref="OrtSessionFactory"/> → <see cref="UNetModel"/>
/// → its per-step binding), for benchmarks that compare session settings and optimised graphs side by side: session
/// creation, the first call (ONNX Runtime plans memory and prepacks weights there) and the mean of the later calls,
/// and the process's peak resident memory (Linux VmHWM; run one configuration per process for a clean figure).
/// </summary>
public static class UNetBenchmark
{
    /// <summary>
    /// Loads <paramref name="unetPath"/> with <paramref name="options"/> and runs it <paramref name="calls"/> times on
    /// a [batch, channels, latent, latent] sample (SD 1.x/2.x-style UNets: hidden states only) (pseudo-random inputs; hidden size read from the model, else <paramref name="hiddenSize"/>).
    /// </summary>
    public static UNetMeasurement Measure(string unetPath, PipelineOptions options, int batch, int latentSize, int calls, int hiddenSize = 768)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(calls, 2);
        var timer = new OrtRunTimer();
        var start = Stopwatch.GetTimestamp();
        using var sessions = OrtSessionFactory.Create(options.ExecutionProvider, options.IntraOpThreads, options.Session, options.Cuda, NullLogger.Instance);
        using var unet = UNetModel.Load(sessions, unetPath, timer);
        var load = Stopwatch.GetElapsedTime(start).TotalSeconds;

        hiddenSize = unet.HiddenSize ?? hiddenSize;
        var inChannels = unet.InChannels ?? 4;
        var sample = Fill(new float[batch * inChannels * latentSize * latentSize], 1);
        var output = new float[batch * unet.OutChannels * latentSize * latentSize];
        using var conditioning = new UNetInputs(Fill(ArrayPool<float>.Shared.Rent(batch * 77 * hiddenSize), 2), 77, hiddenSize);
        using var runOptions = new RunOptions();
        using var step = unet.Bind(sample, inChannels, conditioning, output, batch, latentSize, latentSize);

        start = Stopwatch.GetTimestamp();
        step.Run(runOptions, 901);
        var first = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var process = Process.GetCurrentProcess();
        var cpuStart = process.TotalProcessorTime;
        start = Stopwatch.GetTimestamp();
        var fastest = double.MaxValue;
        for (var i = 1; i < calls; i++)
        {
            var callStart = Stopwatch.GetTimestamp();
            step.Run(runOptions, 901 - 50 * i);
            fastest = Math.Min(fastest, Stopwatch.GetElapsedTime(callStart).TotalSeconds);
        }
        var perCall = Stopwatch.GetElapsedTime(start).TotalSeconds / (calls - 1);
        process.Refresh();
        var cpuPerCall = (process.TotalProcessorTime - cpuStart).TotalSeconds / (calls - 1);
        return new UNetMeasurement(sessions.ProviderName, unet.CallMode.ToString(), load, first, perCall, fastest, cpuPerCall, PeakResidentBytes())
        {
            ProfilePath = options.Session.ProfilePrefix is null ? null : unet.EndProfiling(),
        };
    }

    /// <summary>
    /// One UNet prediction on the benchmark's pseudo-random inputs (the same for every model of the same shapes), for
    /// comparing an optimised graph with its source: returns the output [batch, 4, latent, latent] as float32.
    /// </summary>
    public static float[] Predict(string unetPath, PipelineOptions options, int batch, int latentSize, float timestep, int hiddenSize = 768)
    {
        using var sessions = OrtSessionFactory.Create(options.ExecutionProvider, options.IntraOpThreads, options.Session, options.Cuda, NullLogger.Instance);
        using var unet = UNetModel.Load(sessions, unetPath, new OrtRunTimer());
        hiddenSize = unet.HiddenSize ?? hiddenSize;
        var inChannels = unet.InChannels ?? 4;
        var output = new float[batch * unet.OutChannels * latentSize * latentSize];
        using var conditioning = new UNetInputs(Fill(ArrayPool<float>.Shared.Rent(batch * 77 * hiddenSize), 2), 77, hiddenSize);
        using var runOptions = new RunOptions();
        using var step = unet.Bind(Fill(new float[batch * inChannels * latentSize * latentSize], 1), inChannels, conditioning, output, batch, latentSize, latentSize);
        step.Run(runOptions, timestep);
        return output;
    }

    /// <summary>
    /// Session-creation time of <paramref name="modelPath"/> with ONNX Runtime's optimised-model cache
    /// (SessionOptions.OptimizedModelFilePath): the graph as ORT optimises it at load is saved once (weights to an external
    /// file beside it), then loaded with graph optimisations off. Returns (without cache, saving, with cache) seconds.
    /// </summary>
    public static (double Plain, double Saving, double Cached) MeasureOrtModelCache(string modelPath, string cacheDirectory, int intraOpThreads)
    {
        Directory.CreateDirectory(cacheDirectory);
        var cached = Path.Combine(cacheDirectory, "model.ort-optimized.onnx");
        double Time(Action<SessionOptions> configure)
        {
            using var options = new SessionOptions { IntraOpNumThreads = SessionTuning.ResolveThreads(intraOpThreads) };
            configure(options);
            var start = Stopwatch.GetTimestamp();
            using var session = new InferenceSession(modelPath, options);
            return Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        var plain = Time(o => o.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL);
        var saving = Time(o =>
        {
            o.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
            o.OptimizedModelFilePath = cached;
            o.AddSessionConfigEntry("session.optimized_model_external_initializers_file_name", "model.ort-optimized.onnx_data");
            o.AddSessionConfigEntry("session.optimized_model_external_initializers_min_size_in_bytes", "1024");
        });
        double load;
        {
            using var options = new SessionOptions
            {
                IntraOpNumThreads = SessionTuning.ResolveThreads(intraOpThreads),
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL,
            };
            var start = Stopwatch.GetTimestamp();
            using var session = new InferenceSession(cached, options);
            load = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        return (plain, saving, load);
    }

    /// <summary>Peak resident set size of this process (VmHWM from /proc/self/status), or -1 where there is none.</summary>
    public static long PeakResidentBytes()
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return -1;
        foreach (var line in File.ReadLines(path))
        {
            if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
        }
        return -1;
    }

    private static float[] Fill(float[] values, int seed)
    {
        var random = new Random(seed);
        for (var i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
