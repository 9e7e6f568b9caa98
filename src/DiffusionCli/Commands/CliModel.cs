using DiffusionEngine.Models;
using DiffusionEngine.Runtime;
using DiffusionEngine.TinyModel;

namespace DiffusionCli.Commands;

/// <summary>Options and model resolution shared by the commands that run the pipeline.</summary>
internal static class CliModel
{
    public static readonly string[] ProviderNames = ["auto", "cpu", "cuda"];

    /// <summary>The given model folder, or the built-in tiny model (created under the user's data directory on first use).</summary>
    public static string Resolve(DirectoryInfo? model) =>
        model?.FullName ?? TinyModelBuilder.EnsureDefault(DataDirectories.Default);

    public static ExecutionProviderKind ParseProvider(string? name) => name switch
    {
        null or "auto" => ExecutionProviderKind.Auto,
        "cpu" => ExecutionProviderKind.Cpu,
        "cuda" => ExecutionProviderKind.Cuda,
        _ => throw new ArgumentException($"provider must be one of auto, cpu, cuda but was '{name}'"),
    };
}
