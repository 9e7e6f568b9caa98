using System.CommandLine;
using System.Globalization;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Runtime;

namespace DiffusionCli.Commands;

/// <summary>
/// <c>diffusion bench-gemm [--m 2048] [--k 2048] [--n 2048] [--calls 5] [--threads N] [--provider cpu]</c>: the fp32
/// matrix-product rate ONNX Runtime attains here (<see cref="GemmBenchmark"/>), as one Markdown row: the ceiling for the
/// GFLOP/s that <c>bench-unet --profile</c> prints.
/// </summary>
public static class BenchGemmCommand
{
    public static Command Create()
    {
        var m = new Option<int>("--m") { Description = "Rows of A and Y", DefaultValueFactory = _ => 2048 };
        var k = new Option<int>("--k") { Description = "Columns of A, rows of the weight (reduction length)", DefaultValueFactory = _ => 2048 };
        var n = new Option<int>("--n") { Description = "Columns of the weight and Y", DefaultValueFactory = _ => 2048 };
        var calls = new Option<int>("--calls") { Description = "Timed calls after one warm-up", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "Intra-op threads (0 = physical cores)", DefaultValueFactory = _ => 0 };
        var provider = new Option<string>("--provider") { Description = "Execution provider: auto, cpu or cuda", DefaultValueFactory = _ => "cpu" };
        provider.AcceptOnlyFromAmong(CliModel.ProviderNames);

        var command = new Command("bench-gemm", "Time one fp32 MatMul in ONNX Runtime: the attainable GFLOP/s (one Markdown row)")
        {
            m, k, n, calls, threads, provider,
        };
        command.SetAction((parseResult, _) =>
        {
            try
            {
                var options = new PipelineOptions
                {
                    ExecutionProvider = CliModel.ParseProvider(parseResult.GetValue(provider)),
                    IntraOpThreads = parseResult.GetValue(threads),
                };
                var result = GemmBenchmark.Measure(parseResult.GetValue(m), parseResult.GetValue(k), parseResult.GetValue(n), options, parseResult.GetValue(calls));
                parseResult.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {result.M}×{result.K}×{result.N} | {result.Provider} | {SessionTuning.ResolveThreads(options.IntraOpThreads)} | {result.FastestSeconds:F4} | {result.MeanSeconds:F4} | {result.GflopsPerSecond:F1} |"));
                return Task.FromResult(0);
            }
            catch (Exception ex) when (ex is ArgumentException or ExecutionProviderUnavailableException)
            {
                Console.Error.WriteLine($"error: {CliModel.ErrorMessage(ex)}");
                return Task.FromResult(1);
            }
        });
        return command;
    }
}
