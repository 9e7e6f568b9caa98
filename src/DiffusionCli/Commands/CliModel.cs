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

    /// <summary>
    /// An engine error as the user should read it: the message without ArgumentException's " (Parameter 'x')" suffix,
    /// which names a C# parameter (e.g. 'batch' for a bad scheduler name) rather than the option the user typed.
    /// </summary>
    public static string ErrorMessage(Exception error) =>
        error is ArgumentException { ParamName: { } name } && error.Message.EndsWith($" (Parameter '{name}')", StringComparison.Ordinal)
            ? error.Message[..^$" (Parameter '{name}')".Length]
            : error.Message;

    public static ExecutionProviderKind ParseProvider(string? name) => name switch
    {
        null or "auto" => ExecutionProviderKind.Auto,
        "cpu" => ExecutionProviderKind.Cpu,
        "cuda" => ExecutionProviderKind.Cuda,
        _ => throw new ArgumentException($"provider must be one of auto, cpu, cuda but was '{name}'"),
    };
}
