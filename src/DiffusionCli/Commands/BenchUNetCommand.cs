using System.CommandLine;
using System.Globalization;
using DiffusionEngine.Models;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Runtime;

namespace DiffusionCli.Commands;

/// <summary>
/// <c>diffusion bench-unet --model DIR [--size 512] [--batch 2] [--calls 3] [--provider] [--threads N] [--no-io-binding]
/// [--no-arena] [--memory-pattern] [--no-spinning] [--cuda-graph] [--label TEXT] [--ort-cache DIR]</c>: one UNet
/// configuration per process (so its peak RSS is its own), printed as one Markdown table row; bench/cpu-unet.sh
/// alternates configurations in rounds. With <c>--ort-cache</c> it times session creation with and without ONNX
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

        var command = new Command("bench-unet", "Time the UNet alone under one session configuration (one Markdown row)")
        {
            model, provider, size, batch, calls, threads, noBinding, noArena, pattern, noSpinning, cudaGraph, label, reference, ortCache,
        };
        command.SetAction((parseResult, _) =>
        {
            try
            {
                var unetPath = Path.Combine(parseResult.GetValue(model)!.FullName, "unet", "model.onnx");
                if (parseResult.GetValue(ortCache) is { } cache)
                {
                    var (plain, saving, cached) = UNetBenchmark.MeasureOrtModelCache(unetPath, cache.FullName, parseResult.GetValue(threads));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
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
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
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
                    },
                    Cuda = new CudaSettings { CudaGraph = parseResult.GetValue(cudaGraph) },
                };
                var result = UNetBenchmark.Measure(unetPath, options, parseResult.GetValue(batch), parseResult.GetValue(size) / 8, parseResult.GetValue(calls));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {parseResult.GetValue(label)} | {result.Provider} | {result.CallMode} | {result.LoadSeconds:F2} | {result.FirstCallSeconds:F2} | {result.SecondsPerCall:F3} | {result.MinSecondsPerCall:F3} | {result.CpuSecondsPerCall:F2} | {result.PeakRssBytes / (1024.0 * 1024 * 1024):F2} |"));
                return Task.FromResult(0);
            }
            catch (Exception ex) when (ex is ModelLoadException or ArgumentException or ExecutionProviderUnavailableException)
            {
                Console.Error.WriteLine($"error: {CliModel.ErrorMessage(ex)}");
                return Task.FromResult(1);
            }
        });
        return command;
    }
}
