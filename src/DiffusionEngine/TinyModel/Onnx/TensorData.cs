using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace DiffusionEngine.TinyModel.Onnx;

/// <summary>
/// The values of an initializer, produced on demand in little-endian ONNX raw_data layout. Implementations are
/// deterministic: writing twice gives the same bytes.
/// </summary>
internal abstract class TensorData
{
    /// <summary>Writes <paramref name="elementCount"/> values as <paramref name="elementType"/> to <paramref name="destination"/>.</summary>
    public abstract void WriteTo(Stream destination, OnnxElementType elementType, long elementCount);
}

/// <summary>Real-valued data produced in chunks and encoded as float32 or float16 (round to nearest even).</summary>
internal abstract class FloatTensorData : TensorData
{
    private const int ChunkElements = 1 << 14;

    /// <summary>Starts a fresh, deterministic sequence of values; each call of the result fills the next chunk.</summary>
    protected abstract Action<Span<float>> StartSequence();

    public sealed override void WriteTo(Stream destination, OnnxElementType elementType, long elementCount)
    {
        if (!OnnxElementTypes.IsFloatingPoint(elementType))
            throw new InvalidOperationException($"real-valued tensor data cannot be stored as {elementType}");

        var next = StartSequence();
        var values = new float[(int)Math.Min(ChunkElements, elementCount)];
        var bytes = new byte[values.Length * OnnxElementTypes.SizeOf(elementType)];
        for (long done = 0; done < elementCount;)
        {
            var count = (int)Math.Min(values.Length, elementCount - done);
            var chunk = values.AsSpan(0, count);
            next(chunk);
            var size = Encode(chunk, elementType, bytes);
            destination.Write(bytes, 0, size);
            done += count;
        }
    }

    private static int Encode(ReadOnlySpan<float> values, OnnxElementType elementType, Span<byte> bytes)
    {
        if (elementType == OnnxElementType.Float)
        {
            if (BitConverter.IsLittleEndian)
            {
                MemoryMarshal.AsBytes(values).CopyTo(bytes);
            }
            else
            {
                for (var i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteSingleLittleEndian(bytes[(i * 4)..], values[i]);
            }
            return values.Length * 4;
        }

        for (var i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteHalfLittleEndian(bytes[(i * 2)..], (Half)values[i]);
        return values.Length * 2;
    }
}

/// <summary>
/// Uniform pseudo-random values in [center − bound, center + bound) from a SplitMix64 stream seeded per tensor,
/// so every weight depends only on its seed (not on the order tensors are written in).
/// </summary>
internal sealed class UniformRandomTensorData(ulong seed, float bound, float center = 0f) : FloatTensorData
{
    public ulong Seed { get; } = seed;

    public float Bound { get; } = bound;

    public float Center { get; } = center;

    protected override Action<Span<float>> StartSequence()
    {
        var state = Seed;
        return chunk =>
        {
            for (var i = 0; i < chunk.Length; i++)
            {
                // SplitMix64 (Steele, Lea, Flood 2014): one 64-bit output per step; the top 24 bits make a float in [0, 1).
                state += 0x9E3779B97F4A7C15UL;
                var z = state;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                z ^= z >> 31;
                var unit = (z >> 40) * (1.0f / (1 << 24));
                chunk[i] = Center + (2f * unit - 1f) * Bound;
            }
        };
    }
}

/// <summary>Every element the same value (norm scales of 1, zero biases).</summary>
internal sealed class FilledTensorData(float value) : FloatTensorData
{
    protected override Action<Span<float>> StartSequence() => chunk => chunk.Fill(value);
}

/// <summary>Explicit real values (masks, frequency tables).</summary>
internal sealed class FloatArrayTensorData(float[] values) : FloatTensorData
{
    protected override Action<Span<float>> StartSequence()
    {
        var position = 0;
        return chunk =>
        {
            values.AsSpan(position, chunk.Length).CopyTo(chunk);
            position += chunk.Length;
        };
    }
}

/// <summary>Explicit int64 values (shapes, axes, indices).</summary>
internal sealed class Int64ArrayTensorData(long[] values) : TensorData
{
    public override void WriteTo(Stream destination, OnnxElementType elementType, long elementCount)
    {
        if (elementType != OnnxElementType.Int64)
            throw new InvalidOperationException($"int64 tensor data cannot be stored as {elementType}");
        if (elementCount != values.Length)
            throw new InvalidOperationException($"int64 tensor has {values.Length} values but its shape needs {elementCount}");
        Span<byte> bytes = stackalloc byte[8];
        foreach (var value in values)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
            destination.Write(bytes);
        }
    }
}
