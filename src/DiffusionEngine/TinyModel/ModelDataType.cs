namespace DiffusionEngine.TinyModel;

/// <summary>Floating-point element type of a generated model's weights and float inputs/outputs.</summary>
public enum ModelDataType
{
    /// <summary>float32 everywhere (the usual export).</summary>
    Float32,

    /// <summary>float16 weights and float16 inputs/outputs, as <c>--fp16</c> exports.</summary>
    Float16,
}
