using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionEngine.Runtime;

/// <summary>
/// The first <c>length</c> elements of a float32 host buffer the pipeline computes in, bound once to an
/// <see cref="OrtValue"/> of the model's element type. The host array may be longer than the tensor (an array rented
/// from <see cref="ArrayPool{T}"/>); only the prefix the shape covers is bound. For float32 models the OrtValue wraps
/// the host array itself (zero copy); for float16 models it wraps a staging array rented for the binding's lifetime,
/// and <see cref="CopyHostToModel"/> / <see cref="CopyModelToHost"/> convert at the boundary.
/// The caller owns the host array and keeps it alive for the binding's lifetime; the binding owns the OrtValue and
/// the staging array.
/// </summary>
internal sealed class FloatTensorBinding : IDisposable
{
    private readonly float[] _host;
    private readonly int _length;
    private readonly Float16[]? _staging;

    public FloatTensorBinding(float[] host, long[] shape, TensorElementType modelType)
    {
        _host = host;
        _length = checked((int)ShapeLength(shape));
        if (_length > host.Length)
        {
            throw new ArgumentException($"the host buffer holds {host.Length} floats but the tensor needs {_length}", nameof(host));
        }
        switch (modelType)
        {
            case TensorElementType.Float:
                Value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, host.AsMemory(0, _length), shape);
                break;
            case TensorElementType.Float16:
                _staging = ArrayPool<Float16>.Shared.Rent(_length);
                Value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _staging.AsMemory(0, _length), shape);
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
        if (_staging is not null) TensorPrimitives.ConvertToHalf(_host.AsSpan(0, _length), MemoryMarshal.Cast<Float16, Half>(_staging.AsSpan(0, _length)));
    }

    /// <summary>Makes the host buffer equal the model-side tensor (float16 → float32 for half models; nothing otherwise).</summary>
    public void CopyModelToHost()
    {
        if (_staging is not null) TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<Float16, Half>(_staging.AsSpan(0, _length)), _host.AsSpan(0, _length));
    }

    public void Dispose()
    {
        Value.Dispose();
        if (_staging is not null) ArrayPool<Float16>.Shared.Return(_staging);
    }

    private static long ShapeLength(long[] shape)
    {
        long length = 1;
        foreach (var dimension in shape) length = checked(length * dimension);
        return length;
    }
}
