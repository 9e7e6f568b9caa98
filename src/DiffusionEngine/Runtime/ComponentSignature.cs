using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Runtime;

/// <summary>One input or output of an ONNX model: name, element type ("float32", "int64") and shape.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="Type">The element type, or a description for a non-tensor value.</param>
/// <param name="Shape">Each dimension: its fixed size as a number, else its symbolic name (e.g. "batch_size"), else "?".</param>
public sealed record TensorSignature(string Name, string Type, IReadOnlyList<object> Shape);

/// <summary>A model component's inputs and outputs as the ONNX file declares them, or why the file could not be read.</summary>
/// <param name="Name">"text_encoder", "text_encoder_2", "unet", "vae_decoder" or "vae_encoder".</param>
/// <param name="Inputs">The declared inputs, in order.</param>
/// <param name="Outputs">The declared outputs, in order.</param>
/// <param name="Error">Why ONNX Runtime could not open the file, or null.</param>
public sealed record ComponentSignature(string Name, IReadOnlyList<TensorSignature> Inputs, IReadOnlyList<TensorSignature> Outputs, string? Error = null)
{
    internal static ComponentSignature Of(string name, InferenceSession session) =>
        new(name, Describe(session.InputNames, session.InputMetadata), Describe(session.OutputNames, session.OutputMetadata));

    private static TensorSignature[] Describe(IReadOnlyList<string> names, IReadOnlyDictionary<string, NodeMetadata> metadata)
    {
        var result = new TensorSignature[names.Count];
        for (var i = 0; i < names.Count; i++)
        {
            var node = metadata[names[i]];
            if (!node.IsTensor)
            {
                result[i] = new TensorSignature(names[i], TensorDescriptions.Describe(node), []);
                continue;
            }
            var shape = new object[node.Dimensions.Length];
            for (var d = 0; d < shape.Length; d++)
            {
                shape[d] = node.Dimensions[d] >= 0 ? (long)node.Dimensions[d]
                    : d < node.SymbolicDimensions.Length && !string.IsNullOrEmpty(node.SymbolicDimensions[d]) ? node.SymbolicDimensions[d]
                    : "?";
            }
            result[i] = new TensorSignature(names[i], TensorDescriptions.TypeName(node.ElementDataType), shape);
        }
        return result;
    }
}
