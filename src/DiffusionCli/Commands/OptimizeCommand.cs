using System.CommandLine;
using DiffusionEngine.Models;
using DiffusionEngine.Optimization;

namespace DiffusionCli.Commands;

/// <summary>
/// <c>diffusion optimize --model IN --out OUT [--fp16] [--provider cpu|cuda]</c>: rewrites a model folder's ONNX graphs
/// for ONNX Runtime's fused operators (attention, GroupNorm, LayerNorm, GELU, SiLU) and optionally to float16, and
/// prints what was fused and what was left as a Markdown table.
/// </summary>
public static class OptimizeCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { HelpName = "IN", Description = "Model folder to optimise (diffusers/Optimum ONNX layout)", Required = true };
        var output = new Option<DirectoryInfo>("--out") { HelpName = "OUT", Description = "Folder to write the optimised model into", Required = true };
        var float16 = new Option<bool>("--fp16") { Description = "Convert to float16 compute (inputs/outputs stay float32)" };
        var provider = new Option<string>("--provider")
        {
            Description = "Provider the graph is for: cpu (fusions with CPU kernels) or cuda (adds GroupNorm+SiLU)",
            DefaultValueFactory = _ => "cpu",
        }.AcceptOnlyFromAmong("cpu", "cuda");

        var command = new Command("optimize", "Rewrite a model's graphs to ONNX Runtime's fused operators (and float16)")
        {
            model, output, float16, provider,
        };
        command.SetAction((parseResult, _) =>
        {
            var options = new OptimizationOptions
            {
                Target = parseResult.GetValue(provider) == "cuda" ? OptimizationTarget.Cuda : OptimizationTarget.Cpu,
                Float16 = parseResult.GetValue(float16),
            };
            var source = parseResult.GetValue(model)!.FullName;
            var target = parseResult.GetValue(output)!.FullName;
            try
            {
                var report = ModelOptimizer.Optimize(source, target, options, component => Console.Error.WriteLine($"optimising {component} …"));
                Console.WriteLine($"Optimised {source} for {options.Describe()} into {target} in {report.Seconds:F1} s (ONNX Runtime {report.OnnxRuntimeVersion})");
                Console.WriteLine();
                Console.Write(report.ToMarkdown());
                return Task.FromResult(0);
            }
            catch (Exception ex) when (ex is ModelLoadException or ArgumentException or IOException or NotSupportedException)
            {
                Console.Error.WriteLine($"error: {CliModel.ErrorMessage(ex)}");
                return Task.FromResult(1);
            }
        });
        return command;
    }
}
