using System.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionEngine.Runtime;

/// <summary>Human-readable tensor types and shapes for load errors ("float16 [batch, 4, 64, 64]").</summary>
internal static class TensorDescriptions
{
    public static string TypeName(TensorElementType type) => type switch
    {
        TensorElementType.Float => "float32",
        TensorElementType.Float16 => "float16",
        TensorElementType.BFloat16 => "bfloat16",
        TensorElementType.Double => "float64",
        TensorElementType.Int64 => "int64",
        TensorElementType.Int32 => "int32",
        TensorElementType.Int16 => "int16",
        TensorElementType.Int8 => "int8",
        TensorElementType.UInt8 => "uint8",
        TensorElementType.Bool => "bool",
        TensorElementType.String => "string",
        _ => type.ToString().ToLowerInvariant(),
    };

    public static string Shape(NodeMetadata metadata)
    {
        var dims = metadata.Dimensions;
        var symbols = metadata.SymbolicDimensions;
        var text = new StringBuilder("[");
        for (var i = 0; i < dims.Length; i++)
        {
            if (i > 0) text.Append(", ");
            if (dims[i] >= 0) text.Append(dims[i]);
            else text.Append(i < symbols.Length && !string.IsNullOrEmpty(symbols[i]) ? symbols[i] : "?");
        }
        return text.Append(']').ToString();
    }

    public static string Describe(NodeMetadata metadata) =>
        metadata.IsTensor ? $"{TypeName(metadata.ElementDataType)} {Shape(metadata)}" : $"a non-tensor {metadata.OnnxValueType} value";
}
