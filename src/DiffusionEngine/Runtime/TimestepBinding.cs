using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionEngine.Runtime;

/// <summary>
/// The UNet's <c>timestep</c> input in whatever form the export wants: int64 [batch] (older exports), float32 rank-0
/// (Optimum ≥ 1.24), float16 rank-0 or [batch] (fp16 exports). One small pinned buffer, rewritten in place each step.
/// </summary>
internal sealed class TimestepBinding : IDisposable
{
    private readonly long[]? _int64;
    private readonly float[]? _float32;
    private readonly Float16[]? _float16;

    public TimestepBinding(TensorElementType type, int rank, int batch)
    {
        var length = rank == 0 ? 1 : batch;
        long[] shape = rank == 0 ? [] : [batch];
        switch (type)
        {
            case TensorElementType.Int64:
                _int64 = new long[length];
                Value = OrtValue.CreateTensorValueFromMemory(_int64, shape);
                break;
            case TensorElementType.Float:
                _float32 = new float[length];
                Value = OrtValue.CreateTensorValueFromMemory(_float32, shape);
                break;
            case TensorElementType.Float16:
                _float16 = new Float16[length];
                Value = OrtValue.CreateTensorValueFromMemory(_float16, shape);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "timestep must be int64, float32 or float16");
        }
    }

    public OrtValue Value { get; }

    /// <summary>
    /// Writes <paramref name="timestep"/> to every element. Integer exports get it truncated toward zero, as
    /// diffusers' ONNX pipeline does with <c>np.array([t], dtype=int64)</c>.
    /// </summary>
    public void Set(float timestep)
    {
        if (_int64 is not null) Array.Fill(_int64, (long)timestep);
        else if (_float32 is not null) Array.Fill(_float32, timestep);
        else Array.Fill(_float16!, (Float16)timestep);
    }

    public void Dispose() => Value.Dispose();
}
