namespace DiffusionEngine.TinyModel;

/// <summary>Type and rank of the UNet's <c>timestep</c> input.</summary>
public enum TimestepInput
{
    /// <summary>int64 [batch] (older exports).</summary>
    Int64Batch,

    /// <summary>
    /// A rank-0 floating-point scalar, as Optimum 1.24 and later export: float32, or float16 in a
    /// <see cref="ModelDataType.Float16"/> model (fp16 exports carry a float16 timestep).
    /// </summary>
    Float32Scalar,
}
