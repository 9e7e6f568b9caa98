using System.Diagnostics;
using DiffusionEngine.Pipelines;
using DiffusionEngine.TinyModel.Onnx;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Runtime;

/// <summary>What <see cref="GemmBenchmark.Measure"/> found: the fastest call and its rate.</summary>
public sealed record GemmMeasurement(int M, int K, int N, string Provider, double FastestSeconds, double MeanSeconds)
{
    /// <summary>2·M·K·N.</summary>
    public double Flops => 2.0 * M * K * N;

    /// <summary>GFLOP/s of the fastest call: the attainable fp32 matrix-product rate to compare a profile's Conv/MatMul rates with.</summary>
    public double GflopsPerSecond => Flops / FastestSeconds / 1e9;
}

/// <summary>
/// The fp32 matrix-product rate ONNX Runtime attains on this machine: a one-node model Y = A·W (A [M, K] an input,
/// W [K, N] a weight, which ORT prepacks as it does the UNet's projections) written with the project's own ONNX writer,
/// run in a session with the pipeline's options. The ceiling that <c>bench-unet --profile</c>'s GFLOP/s are read against.
/// </summary>
public static class GemmBenchmark
{
    public static GemmMeasurement Measure(int m, int k, int n, PipelineOptions options, int calls)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(m, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(calls, 2);
        const long MaxElements = 1L << 28; // 1 GiB of float32 per matrix
        if ((long)m * k > MaxElements || (long)k * n > MaxElements || (long)m * n > MaxElements)
            throw new ArgumentOutOfRangeException(nameof(m), $"each of M·K, K·N and M·N must be at most {MaxElements} elements (1 GiB of float32)");
        var directory = Directory.CreateTempSubdirectory("gemm-benchmark-").FullName;
        try
        {
            var path = Path.Combine(directory, "matmul.onnx");
            var builder = new GraphBuilder("matmul", OnnxElementType.Float, OnnxElementType.Float, 1);
            var a = builder.Input("a", OnnxElementType.Float, m, k);
            var y = builder.Op("MatMul", [a, builder.Parameter("weight", [k, n], 0.05f)]);
            builder.Output(y, "y", OnnxElementType.Float, m, n);
            OnnxModelWriter.Write(builder.Build(), path, null);

            using var sessions = OrtSessionFactory.Create(options.ExecutionProvider, options.IntraOpThreads, options.Session, options.Cuda, NullLogger.Instance);
            using var session = sessions.CreateSession(path);
            var input = new float[m * k];
            var random = new Random(3);
            for (var i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);
            using var inputValue = OrtValue.CreateTensorValueFromMemory(input, [m, k]);
            using var outputValue = OrtValue.CreateTensorValueFromMemory(new float[m * n], [m, n]);
            using var runOptions = new RunOptions();
            string[] inputNames = ["a"], outputNames = ["y"];
            OrtValue[] inputs = [inputValue], outputs = [outputValue];

            session.Run(runOptions, inputNames, inputs, outputNames, outputs); // warm-up: prepacking, arena
            var fastest = double.MaxValue;
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < calls; i++)
            {
                var callStart = Stopwatch.GetTimestamp();
                session.Run(runOptions, inputNames, inputs, outputNames, outputs);
                fastest = Math.Min(fastest, Stopwatch.GetElapsedTime(callStart).TotalSeconds);
            }
            return new GemmMeasurement(m, k, n, sessions.ProviderName, fastest, Stopwatch.GetElapsedTime(start).TotalSeconds / calls);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
