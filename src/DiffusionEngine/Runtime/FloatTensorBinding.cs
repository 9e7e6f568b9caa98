using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionEngine.Runtime;

/// <summary>
/// A float32 host buffer the pipeline computes in, bound once to an <see cref="OrtValue"/> of the model's element type.
/// For float32 models the OrtValue wraps the host array itself (zero copy); for float16 models it wraps a staging
/// array of the same length and <see cref="CopyHostToModel"/> / <see cref="CopyModelToHost"/> convert at the boundary.
/// The caller owns the host array and keeps it alive for the binding's lifetime; the binding owns the OrtValue.
/// </summary>
internal sealed class FloatTensorBinding : IDisposable
{
    private readonly float[] _host;
    private readonly Float16[]? _staging;

    public FloatTensorBinding(float[] host, long[] shape, TensorElementType modelType)
    {
        _host = host;
        switch (modelType)
        {
            case TensorElementType.Float:
                Value = OrtValue.CreateTensorValueFromMemory(host, shape);
                break;
            case TensorElementType.Float16:
                _staging = new Float16[host.Length];
                Value = OrtValue.CreateTensorValueFromMemory(_staging, shape);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(modelType), modelType, "only float32 and float16 tensors are bound to float buffers");
        }
    }

    /// <summary>The value to pass to Run.</summary>
    public OrtValue Value { get; }

    /// <summary>Makes the model-side tensor equal the host buffer (float32 → float16 for half models; nothing otherwise).</summary>
    public void CopyHostToModel()
    {
        if (_staging is not null) TensorPrimitives.ConvertToHalf(_host, MemoryMarshal.Cast<Float16, Half>(_staging.AsSpan()));
    }

    /// <summary>Makes the host buffer equal the model-side tensor (float16 → float32 for half models; nothing otherwise).</summary>
    public void CopyModelToHost()
    {
        if (_staging is not null) TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<Float16, Half>(_staging.AsSpan()), _host);
    }

    public void Dispose() => Value.Dispose();
}
