using System.Diagnostics;
using System.Text.Json;
using DiffusionEngine.Models;
using Onnx;

namespace DiffusionEngine.Optimization;

/// <summary>
/// Optimises a diffusers/Optimum ONNX model folder into another folder: every component's <c>model.onnx</c>
/// (text_encoder, SDXL's text_encoder_2, unet, vae_decoder, vae_encoder when present) is rewritten by <see cref="GraphOptimizer"/>; every other
/// file (model_index.json, scheduler, tokenizer, configs) is copied. Writes <see cref="ReportFileName"/> beside them.
/// Models with external data (&gt; 2 GB) keep it: weights are streamed from the source into the new data file one tensor
/// at a time.
/// </summary>
public static class ModelOptimizer
{
    /// <summary>The report written into the optimised folder (JSON, <see cref="OptimizationReport"/>).</summary>
    public const string ReportFileName = "optimization.json";

    /// <summary>Marks an optimised model (ModelProto metadata_props key); its value is <see cref="OptimizationOptions.Describe"/>.</summary>
    public const string MetadataKey = "diffusion.optimized";

    private static readonly string[] Components = ["text_encoder", "text_encoder_2", "unet", "vae_decoder", "vae_encoder"];

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>
    /// Optimises <paramref name="sourceDirectory"/> into <paramref name="outputDirectory"/> (created; files of the same
    /// names are replaced). <paramref name="progress"/> is told each component's name as it starts.
    /// </summary>
    /// <exception cref="ModelLoadException">The source is not a model folder or a model cannot be read.</exception>
    /// <exception cref="ArgumentException">The output folder is the source folder.</exception>
    public static OptimizationReport Optimize(string sourceDirectory, string outputDirectory, OptimizationOptions options, Action<string>? progress = null)
    {
        var source = Path.GetFullPath(sourceDirectory);
        var output = Path.GetFullPath(outputDirectory);
        if (!File.Exists(Path.Combine(source, "model_index.json")))
            throw new ModelLoadException(source, "not a diffusers model folder (model_index.json is missing)");
        if (string.Equals(source.TrimEnd(Path.DirectorySeparatorChar), output.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
            throw new ArgumentException("the output folder must differ from the model folder", nameof(outputDirectory));

        var start = Stopwatch.GetTimestamp();
        Directory.CreateDirectory(output);
        var skip = new HashSet<string>(StringComparer.Ordinal);
        var reports = new List<ComponentReport>();
        foreach (var component in Components)
        {
            var modelPath = Path.Combine(source, component, "model.onnx");
            if (!File.Exists(modelPath)) continue;
            progress?.Invoke(component);
            var document = OnnxModelDocument.Load(modelPath);
            skip.Add(modelPath);
            foreach (var tensor in document.Graph.Initializer)
            {
                foreach (var entry in tensor.ExternalData)
                    if (entry.Key == "location") skip.Add(Path.GetFullPath(Path.Combine(document.Directory, entry.Value)));
            }
            reports.Add(GraphOptimizer.Optimize(document, component, options));
            document.Model.MetadataProps.Add(new StringStringEntryProto { Key = MetadataKey, Value = options.Describe() });
            document.Save(Path.Combine(output, component, "model.onnx"));
        }
        if (reports.Count == 0) throw new ModelLoadException(source, "has no component model.onnx to optimise");

        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var full = Path.GetFullPath(file);
            if (skip.Contains(full)) continue;
            var relative = Path.GetRelativePath(source, full);
            if (relative == ReportFileName) continue;
            var target = Path.Combine(output, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(full, target, overwrite: true);
        }

        var report = new OptimizationReport
        {
            Source = source,
            Options = options.Describe(),
            OnnxRuntimeVersion = OnnxRuntimeInfo.Version,
            Seconds = Math.Round(Stopwatch.GetElapsedTime(start).TotalSeconds, 2),
            Components = reports,
        };
        File.WriteAllText(Path.Combine(output, ReportFileName), JsonSerializer.Serialize(report, JsonOptions));
        return report;
    }
}

/// <summary>What <see cref="ModelOptimizer.Optimize"/> did, per component.</summary>
public sealed record OptimizationReport
{
    public required string Source { get; init; }

    /// <summary><see cref="OptimizationOptions.Describe"/> of the options used.</summary>
    public required string Options { get; init; }

    public required string OnnxRuntimeVersion { get; init; }

    public double Seconds { get; init; }

    public required IReadOnlyList<ComponentReport> Components { get; init; }

    /// <summary>A Markdown table: one row per component, fused and left-over kinds with counts.</summary>
    public string ToMarkdown()
    {
        var builder = new System.Text.StringBuilder();
        builder.AppendLine("| component | nodes before → after | fused | left unfused | float16 |");
        builder.AppendLine("|---|---|---|---|---|");
        foreach (var c in Components)
        {
            var fused = c.Fused.Count == 0 ? "—" : string.Join(", ", c.Fused.Select(p => $"{p.Key} ×{p.Value}"));
            var left = c.Left.Count == 0 ? "—" : string.Join(", ", c.Left.Select(p => $"{p.Key} ×{p.Value}"));
            var half = c.Float16Nodes == 0 ? "—"
                : $"{c.Float16Nodes} nodes" + (c.Float32Kept.Count == 0 ? "" : "; kept float32: " + string.Join(", ", c.Float32Kept.Select(p => $"{p.Key} ×{p.Value}")));
            builder.AppendLine($"| {c.Component} | {c.NodesBefore} → {c.NodesAfter} | {fused} | {left} | {half} |");
        }
        return builder.ToString();
    }
}
