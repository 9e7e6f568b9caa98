using DiffusionEngine.Pipelines;
using DiffusionEngine.Runtime;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Models;

/// <summary>What <see cref="ModelInspector.Inspect"/> found.</summary>
/// <param name="Model">Kind, capabilities and defaults when the folder loads; null when it does not.</param>
/// <param name="Components">Every component file present, with its declared inputs and outputs.</param>
/// <param name="Error">Why the folder does not load (the <see cref="ModelLoadException"/>'s message), or null.</param>
public sealed record ModelInspection(ModelInfo? Model, IReadOnlyList<ComponentSignature> Components, string? Error);

/// <summary>
/// Describes a model folder for a user whose export does not load (the CLI's <c>inspect</c>): loads it as the service
/// would (on the CPU) and reports its kind, capabilities, defaults and the components' inputs and outputs; when it does
/// not load, still lists each component file's declared inputs and outputs, with the load error.
/// </summary>
public static class ModelInspector
{
    /// <summary>The component folders the engine reads, in the order they are listed.</summary>
    public static IReadOnlyList<string> ComponentNames { get; } = ["text_encoder", "text_encoder_2", "unet", "vae_decoder", "vae_encoder"];

    /// <exception cref="ArgumentException"><paramref name="modelDirectory"/> is empty.</exception>
    public static ModelInspection Inspect(string modelDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelDirectory);
        try
        {
            using var pipeline = DiffusionPipeline.Load(modelDirectory, new PipelineOptions { ExecutionProvider = ExecutionProviderKind.Cpu }, NullLoggerFactory.Instance);
            return new ModelInspection(pipeline.Model, pipeline.ComponentSignatures(), null);
        }
        catch (ModelLoadException ex)
        {
            return new ModelInspection(null, ReadComponentFiles(modelDirectory), ex.Message);
        }
    }

    /// <summary>Each component's declared I/O, read by opening its file alone without graph optimizations.</summary>
    private static List<ComponentSignature> ReadComponentFiles(string modelDirectory)
    {
        var components = new List<ComponentSignature>();
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        foreach (var name in ComponentNames)
        {
            var path = Path.Combine(modelDirectory, name, "model.onnx");
            if (!File.Exists(path)) continue;
            try
            {
                using var session = new InferenceSession(path, options);
                components.Add(ComponentSignature.Of(name, session));
            }
            catch (OnnxRuntimeException ex)
            {
                components.Add(new ComponentSignature(name, [], [], ex.Message.Trim().Split('\n')[0]));
            }
        }
        return components;
    }
}
