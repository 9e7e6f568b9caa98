namespace DiffusionEngine.TinyModel.Onnx;

/// <summary>ONNX TensorProto.DataType values used by the generated models (numbers from onnx.proto).</summary>
internal enum OnnxElementType
{
    Float = 1,
    Int32 = 6,
    Int64 = 7,
    Float16 = 10,
}

internal static class OnnxElementTypes
{
    public static int SizeOf(OnnxElementType type) => type switch
    {
        OnnxElementType.Float => 4,
        OnnxElementType.Int32 => 4,
        OnnxElementType.Int64 => 8,
        OnnxElementType.Float16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unsupported ONNX element type"),
    };

    public static bool IsFloatingPoint(OnnxElementType type) =>
        type is OnnxElementType.Float or OnnxElementType.Float16;
}
