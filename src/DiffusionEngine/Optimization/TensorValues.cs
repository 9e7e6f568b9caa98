using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace DiffusionEngine.Optimization;

/// <summary>
/// Conversions between ONNX TensorProto storage (raw little-endian bytes or the typed repeated fields) and .NET arrays,
/// for the small constants the pattern matchers read (scales, shapes, epsilons) and the tensors the rewriters create.
/// </summary>
internal static class TensorValues
{
    public const int Float = (int)TensorProto.Types.DataType.Float;
    public const int Float16 = (int)TensorProto.Types.DataType.Float16;
    public const int Double = (int)TensorProto.Types.DataType.Double;
    public const int Int32 = (int)TensorProto.Types.DataType.Int32;
    public const int Int64 = (int)TensorProto.Types.DataType.Int64;

    public static long ElementCount(TensorProto tensor)
    {
        long count = 1;
        foreach (var dim in tensor.Dims) count *= dim;
        return count;
    }

    /// <summary>The typed repeated fields (float_data, int32_data, int64_data, double_data) as raw little-endian bytes.</summary>
    public static byte[] TypedFieldsToBytes(TensorProto tensor)
    {
        switch (tensor.DataType)
        {
            case Float:
                return MemoryMarshal.AsBytes(tensor.FloatData.ToArray().AsSpan()).ToArray();
            case Double:
                return MemoryMarshal.AsBytes(tensor.DoubleData.ToArray().AsSpan()).ToArray();
            case Int64:
                return MemoryMarshal.AsBytes(tensor.Int64Data.ToArray().AsSpan()).ToArray();
            case Int32:
                return MemoryMarshal.AsBytes(tensor.Int32Data.ToArray().AsSpan()).ToArray();
            case Float16:
            {
                // float16 values are stored one per int32_data element (their bit patterns).
                var bytes = new byte[tensor.Int32Data.Count * 2];
                for (var i = 0; i < tensor.Int32Data.Count; i++)
                    BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), (ushort)tensor.Int32Data[i]);
                return bytes;
            }
            default:
                throw new NotSupportedException($"tensor '{tensor.Name}' has element type {tensor.DataType}, which the optimizer does not read");
        }
    }

    /// <summary>The values of a float32/float16/double tensor as float32, or null for other types.</summary>
    public static float[]? ReadFloats(OnnxModelDocument document, TensorProto tensor)
    {
        if (tensor.DataType is not (Float or Float16 or Double)) return null;
        var bytes = document.ReadBytes(tensor);
        switch (tensor.DataType)
        {
            case Float:
                return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
            case Double:
            {
                var doubles = MemoryMarshal.Cast<byte, double>(bytes);
                var result = new float[doubles.Length];
                for (var i = 0; i < doubles.Length; i++) result[i] = (float)doubles[i];
                return result;
            }
            default:
            {
                var halves = MemoryMarshal.Cast<byte, Half>(bytes);
                var result = new float[halves.Length];
                TensorPrimitives.ConvertToSingle(halves, result);
                return result;
            }
        }
    }

    /// <summary>The values of an int64/int32 tensor, or null for other types.</summary>
    public static long[]? ReadInt64s(OnnxModelDocument document, TensorProto tensor)
    {
        if (tensor.DataType is not (Int64 or Int32)) return null;
        var bytes = document.ReadBytes(tensor);
        if (tensor.DataType == Int64) return MemoryMarshal.Cast<byte, long>(bytes).ToArray();
        var ints = MemoryMarshal.Cast<byte, int>(bytes);
        var result = new long[ints.Length];
        for (var i = 0; i < ints.Length; i++) result[i] = ints[i];
        return result;
    }

    /// <summary>A new initializer holding <paramref name="values"/> as <paramref name="dataType"/> (float32 or float16).</summary>
    public static TensorProto CreateFloat(string name, long[] dims, ReadOnlySpan<float> values, int dataType)
    {
        var tensor = new TensorProto { Name = name, DataType = dataType };
        tensor.Dims.AddRange(dims);
        var bytes = MemoryMarshal.AsBytes(values).ToArray();
        tensor.RawData = ByteString.CopyFrom(dataType == Float16 ? Float32BytesToFloat16Bytes(bytes) : bytes);
        return tensor;
    }

    public static TensorProto CreateInt64(string name, long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = Int64 };
        tensor.Dims.Add(values.Length);
        tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        return tensor;
    }

    /// <summary>float32 raw bytes → float16 raw bytes, round to nearest even (values beyond ±65504 become ±∞, as a cast does).</summary>
    public static byte[] Float32BytesToFloat16Bytes(byte[] float32Bytes)
    {
        var source = MemoryMarshal.Cast<byte, float>(float32Bytes);
        var result = new byte[source.Length * 2];
        TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<byte, Half>(result.AsSpan()));
        return result;
    }
}
