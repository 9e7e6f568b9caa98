using System.CommandLine;
using System.Globalization;
using DiffusionEngine.Models;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Runtime;

namespace DiffusionCli.Commands;

/// <summary>
/// <c>diffusion bench-unet --model DIR [--size 512] [--batch 2] [--calls 3] [--provider] [--threads N] [--no-io-binding]
/// [--no-arena] [--memory-pattern] [--no-spinning] [--cuda-graph] [--label TEXT] [--ort-cache DIR] [--profile DIR]</c>: one UNet
/// configuration per process (so its peak RSS is its own), printed as one Markdown table row; bench/cpu-unet.sh
/// alternates configurations in rounds. With <c>--profile</c> ONNX Runtime's per-node profile is written to DIR and
/// summarised per op type below the row (<see cref="OrtProfileSummary"/>, the first call left out). With <c>--ort-cache</c> it times session creation with and without ONNX
/// Runtime's optimised-model cache instead.
/// </summary>
public static class BenchUNetCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { HelpName = "DIR", Description = "Model folder (its unet/model.onnx is run)", Required = true };
        var provider = new Option<string>("--provider") { Description = "Execution provider: auto, cpu or cuda", DefaultValueFactory = _ => "cpu" };
        provider.AcceptOnlyFromAmong(CliModel.ProviderNames);
        var size = new Option<int>("--size") { Description = "Image size in pixels (latent = size/8)", DefaultValueFactory = _ => 512 };
        var batch = new Option<int>("--batch") { Description = "UNet batch (2 = one image with classifier-free guidance)", DefaultValueFactory = _ => 2 };
        var calls = new Option<int>("--calls") { Description = "UNet calls (the first is reported apart)", DefaultValueFactory = _ => 3 };
        var threads = new Option<int>("--threads") { Description = "Intra-op threads (0 = physical cores)", DefaultValueFactory = _ => 0 };
        var noBinding = new Option<bool>("--no-io-binding") { Description = "Plain Run with preallocated values instead of I/O binding" };
        var noArena = new Option<bool>("--no-arena") { Description = "Disable the CPU memory arena" };
        var pattern = new Option<bool>("--memory-pattern") { Description = "Enable memory-pattern planning (off by default)" };
        var noSpinning = new Option<bool>("--no-spinning") { Description = "Intra-op workers block instead of spinning" };
        var cudaGraph = new Option<bool>("--cuda-graph") { Description = "CUDA graphs with device-bound UNet buffers (CUDA only)" };
        var label = new Option<string>("--label") { Description = "Row label", DefaultValueFactory = _ => "" };
        var reference = new Option<DirectoryInfo>("--reference") { HelpName = "DIR", Description = "Compare one prediction with this model's UNet instead (max |Δ|)" };
        var ortCache = new Option<DirectoryInfo>("--ort-cache") { HelpName = "DIR", Description = "Time session creation with ONNX Runtime's optimised-model cache in DIR instead" };
        var profile = new Option<DirectoryInfo>("--profile") { HelpName = "DIR", Description = "Write ONNX Runtime's per-node profile to DIR and print time per op type (first call left out)" };

        var command = new Command("bench-unet", "Time the UNet alone under one session configuration (one Markdown row)")
        {
            model, provider, size, batch, calls, threads, noBinding, noArena, pattern, noSpinning, cudaGraph, label, reference, ortCache, profile,
        };
        command.Validators.Add(result =>
        {
            // The profile covers the timed calls only; the other two modes would leave it unwritten.
            if (result.GetResult(profile) is not null && (result.GetResult(reference) is not null || result.GetResult(ortCache) is not null))
                result.AddError("--profile times the UNet calls: it cannot be combined with --reference or --ort-cache");
        });
        command.SetAction((parseResult, _) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            try
            {
                var unetPath = Path.Combine(parseResult.GetValue(model)!.FullName, "unet", "model.onnx");
                if (parseResult.GetValue(ortCache) is { } cache)
                {
                    var (plain, saving, cached) = UNetBenchmark.MeasureOrtModelCache(unetPath, cache.FullName, parseResult.GetValue(threads));
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {parseResult.GetValue(label)} | {plain:F2} | {saving:F2} | {cached:F2} |"));
                    return Task.FromResult(0);
                }
                if (parseResult.GetValue(reference) is { } referenceModel)
                {
                    var plainOptions = new PipelineOptions { ExecutionProvider = CliModel.ParseProvider(parseResult.GetValue(provider)), IntraOpThreads = parseResult.GetValue(threads) };
                    var latent = parseResult.GetValue(size) / 8;
                    var expected = UNetBenchmark.Predict(Path.Combine(referenceModel.FullName, "unet", "model.onnx"), plainOptions, parseResult.GetValue(batch), latent, 801);
                    var actual = UNetBenchmark.Predict(unetPath, plainOptions, parseResult.GetValue(batch), latent, 801);
                    double maxDifference = 0, maxMagnitude = 0;
                    for (var i = 0; i < expected.Length; i++)
                    {
                        maxDifference = Math.Max(maxDifference, Math.Abs(expected[i] - actual[i]));
                        maxMagnitude = Math.Max(maxMagnitude, Math.Abs(expected[i]));
                    }
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {parseResult.GetValue(label)} | {maxDifference:E2} | {maxMagnitude:F3} |"));
                    return Task.FromResult(0);
                }
                var options = new PipelineOptions
                {
                    ExecutionProvider = CliModel.ParseProvider(parseResult.GetValue(provider)),
                    IntraOpThreads = parseResult.GetValue(threads),
                    Session = new SessionTuning
                    {
                        IoBinding = !parseResult.GetValue(noBinding),
                        CpuArena = !parseResult.GetValue(noArena),
                        MemoryPattern = parseResult.GetValue(pattern),
                        AllowSpinning = !parseResult.GetValue(noSpinning),
                        ProfilePrefix = ProfilePrefix(parseResult.GetValue(profile)),
                    },
                    Cuda = new CudaSettings { CudaGraph = parseResult.GetValue(cudaGraph) },
                };
                var result = UNetBenchmark.Measure(unetPath, options, parseResult.GetValue(batch), parseResult.GetValue(size) / 8, parseResult.GetValue(calls));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {parseResult.GetValue(label)} | {result.Provider} | {result.CallMode} | {result.LoadSeconds:F2} | {result.FirstCallSeconds:F2} | {result.SecondsPerCall:F3} | {result.MinSecondsPerCall:F3} | {result.CpuSecondsPerCall:F2} | {result.PeakRssBytes / (1024.0 * 1024 * 1024):F2} |"));
                if (result.ProfilePath is { } profilePath) PrintProfile(output, profilePath);
                return Task.FromResult(0);
            }
            catch (Exception ex) when (ex is ModelLoadException or ArgumentException or ExecutionProviderUnavailableException or InvalidDataException or IOException)
            {
                Console.Error.WriteLine($"error: {CliModel.ErrorMessage(ex)}");
                return Task.FromResult(1);
            }
        });
        return command;
    }

    private static string Format(double? value, string format) => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "";

    private static string? ProfilePrefix(DirectoryInfo? directory)
    {
        if (directory is null) return null;
        directory.Create();
        return Path.Combine(directory.FullName, "unet");
    }

    /// <summary>The profile's time per op type as a Markdown table, then the share and rate of the ops whose FLOPs are counted.</summary>
    private static void PrintProfile(TextWriter output, string path)
    {
        var summary = OrtProfileSummary.Read(path);
        var kernels = summary.KernelMicrosecondsPerCall;
        var fastest = summary.OpTypes.Sum(o => o.FastestMicrosecondsPerCall);
        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Profile {path}: {summary.CallsCounted} call(s) summed, {summary.CallsSkipped} left out; per call: model_run {summary.RunMicrosecondsPerCall / 1e3:F1} ms, kernels {kernels / 1e3:F1} ms, each node's fastest {fastest / 1e3:F1} ms"));
        output.WriteLine();
        output.WriteLine("| op type | nodes | ms/call | share of kernel time | ms/call, each node's fastest | GFLOP/call | GFLOP/s | GFLOP/s, fastest |");
        output.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var op in summary.OpTypes)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {op.OpType} | {op.Nodes} | {op.MicrosecondsPerCall / 1e3:F1} | {op.Share * 100:F1} % | {op.FastestMicrosecondsPerCall / 1e3:F1} | {Format(op.FlopsPerCall / 1e9, "F2")} | {Format(op.GflopsPerSecond, "F1")} | {Format(op.FastestGflopsPerSecond, "F1")} |"));
        }
        var counted = summary.OpTypes.Where(o => o.FlopsPerCall is not null).ToList();
        var countedTime = counted.Sum(o => o.MicrosecondsPerCall);
        var countedFastest = counted.Sum(o => o.FastestMicrosecondsPerCall);
        var countedFlops = counted.Sum(o => o.FlopsPerCall!.Value);
        if (countedTime > 0 && kernels > 0)
        {
            output.WriteLine();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Ops with FLOPs ({string.Join(", ", counted.Select(o => o.OpType))}): {countedFlops / 1e9:F1} GFLOP/call; {countedTime / kernels * 100:F1} % of kernel time at {countedFlops / (countedTime * 1e3):F1} GFLOP/s (each node's fastest: {countedFastest / fastest * 100:F1} % at {countedFlops / (countedFastest * 1e3):F1} GFLOP/s); the rest: {(kernels - countedTime) / 1e3:F1} ms/call (fastest {(fastest - countedFastest) / 1e3:F1})"));
        }
    }
}
