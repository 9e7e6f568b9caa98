using System.Buffers.Binary;
using System.Text;

namespace DiffusionEngine.Runtime;

/// <summary>
/// Reads what ONNX Runtime's API does not expose from an ONNX file: the graph's nodes (op type, inputs, outputs, float
/// and int attributes) and the values of constant float tensors (initializers and Constant nodes). It walks the
/// ModelProto's protobuf encoding (field numbers from onnx.proto) over a seekable stream and seeks past every tensor's
/// data, so a 500 MB text encoder costs a few hundred seeks; only the tensors asked for are read, whether inline
/// (raw_data, float_data, or int32_data holding float16 bits) or from external data beside the model.
/// </summary>
internal sealed class OnnxGraphReader
{
    // onnx.proto field numbers.
    private const int ModelGraph = 7;
    private const int GraphNode = 1, GraphInitializer = 5;
    private const int NodeInput = 1, NodeOutput = 2, NodeOpType = 4, NodeAttribute = 5, NodeDomain = 7;
    private const int AttributeName = 1, AttributeFloat = 2, AttributeInt = 3, AttributeTensor = 5;
    private const int TensorDims = 1, TensorDataType = 2, TensorFloatData = 4, TensorInt32Data = 5, TensorName = 8, TensorRawData = 9,
        TensorExternalData = 13, TensorDataLocation = 14;
    private const int EntryKey = 1, EntryValue = 2;

    // TensorProto.DataType.
    private const int Float = 1, Float16 = 10, BFloat16 = 16;

    private readonly string _modelPath;
    private readonly Dictionary<string, OnnxNodeInfo> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OnnxTensorInfo> _initializers = new(StringComparer.Ordinal);

    private OnnxGraphReader(string modelPath) => _modelPath = modelPath;

    /// <summary>Reads the node list and the initializers' headers of <paramref name="modelPath"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed ONNX model.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static OnnxGraphReader Read(string modelPath)
    {
        var reader = new OnnxGraphReader(modelPath);
        using var file = new FileStream(modelPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var proto = new ProtoStream(file);
        while (proto.TryReadTag(file.Length, out var field, out var wireType))
        {
            if (field == ModelGraph && wireType == ProtoStream.LengthDelimited) reader.ReadGraph(proto, proto.MessageEnd());
            else proto.Skip(wireType);
        }
        return reader;
    }

    /// <summary>The node that outputs <paramref name="valueName"/>, or null (a graph input or an initializer).</summary>
    public OnnxNodeInfo? Producer(string valueName) => _producers.GetValueOrDefault(valueName);

    /// <summary>
    /// The constant tensor <paramref name="valueName"/> is, following Identity and Cast nodes back to an initializer or
    /// a Constant node, or null when it is computed.
    /// </summary>
    public OnnxTensorInfo? Constant(string valueName)
    {
        for (var hops = 0; hops < 8; hops++)
        {
            if (_initializers.TryGetValue(valueName, out var initializer)) return initializer;
            var node = Producer(valueName);
            if (node is null) return null;
            if (node.OpType == "Constant") return node.Value;
            if (node.OpType is not ("Identity" or "Cast") || node.Inputs.Length == 0) return null;
            valueName = node.Inputs[0];
        }
        return null;
    }

    /// <summary>The values of a float, float16 or bfloat16 tensor as float32.</summary>
    /// <exception cref="InvalidDataException">The tensor has another type, or its data is missing or of the wrong length.</exception>
    public float[] ReadFloats(OnnxTensorInfo tensor)
    {
        var count = tensor.ElementCount;
        var values = new float[checked((int)count)];
        byte[] bytes;
        if (tensor.ExternalLocation is { } location)
        {
            var path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(_modelPath))!, location);
            using var external = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            external.Seek(tensor.ExternalOffset, SeekOrigin.Begin);
            bytes = ReadExactly(external, tensor.ExternalLength ?? ElementSize(tensor) * count, tensor);
        }
        else if (tensor.Inline is { } inline)
        {
            using var file = new FileStream(_modelPath, FileMode.Open, FileAccess.Read, FileShare.Read);
            file.Seek(inline.Offset, SeekOrigin.Begin);
            bytes = ReadExactly(file, inline.Length, tensor);
            if (inline.Field == TensorFloatData) return Decode(bytes, Float, values, tensor);
            if (inline.Field == TensorInt32Data) return DecodeVarintHalves(bytes, tensor.DataType, values, tensor);
        }
        else if (tensor.UnpackedValues is { } unpacked && unpacked.Count == values.Length)
        {
            for (var i = 0; i < values.Length; i++) values[i] = tensor.DataType == Float ? BitConverter.Int32BitsToSingle(unpacked[i]) : HalfBits(tensor.DataType, unpacked[i]);
            return values;
        }
        else
        {
            throw new InvalidDataException($"tensor '{tensor.Name}' has no data");
        }
        return Decode(bytes, tensor.DataType, values, tensor);
    }

    private void ReadGraph(ProtoStream proto, long end)
    {
        while (proto.TryReadTag(end, out var field, out var wireType))
        {
            if (field == GraphNode && wireType == ProtoStream.LengthDelimited)
            {
                var node = ReadNode(proto, proto.MessageEnd());
                foreach (var output in node.Outputs) _producers[output] = node;
            }
            else if (field == GraphInitializer && wireType == ProtoStream.LengthDelimited)
            {
                var tensor = ReadTensor(proto, proto.MessageEnd());
                _initializers[tensor.Name] = tensor;
            }
            else
            {
                proto.Skip(wireType);
            }
        }
    }

    private static OnnxNodeInfo ReadNode(ProtoStream proto, long end)
    {
        List<string> inputs = [], outputs = [];
        string opType = "", domain = "";
        var floats = new Dictionary<string, float>(StringComparer.Ordinal);
        var ints = new Dictionary<string, long>(StringComparer.Ordinal);
        OnnxTensorInfo? value = null;
        while (proto.TryReadTag(end, out var field, out var wireType))
        {
            switch (field)
            {
                case NodeInput when wireType == ProtoStream.LengthDelimited: inputs.Add(proto.ReadString()); break;
                case NodeOutput when wireType == ProtoStream.LengthDelimited: outputs.Add(proto.ReadString()); break;
                case NodeOpType when wireType == ProtoStream.LengthDelimited: opType = proto.ReadString(); break;
                case NodeDomain when wireType == ProtoStream.LengthDelimited: domain = proto.ReadString(); break;
                case NodeAttribute when wireType == ProtoStream.LengthDelimited:
                    var attributeEnd = proto.MessageEnd();
                    string name = "";
                    float? f = null;
                    long? i = null;
                    OnnxTensorInfo? t = null;
                    while (proto.TryReadTag(attributeEnd, out var attributeField, out var attributeWire))
                    {
                        if (attributeField == AttributeName && attributeWire == ProtoStream.LengthDelimited) name = proto.ReadString();
                        else if (attributeField == AttributeFloat && attributeWire == ProtoStream.Fixed32) f = BitConverter.Int32BitsToSingle((int)proto.ReadFixed32());
                        else if (attributeField == AttributeInt && attributeWire == ProtoStream.Varint) i = (long)proto.ReadVarint();
                        else if (attributeField == AttributeTensor && attributeWire == ProtoStream.LengthDelimited) t = ReadTensor(proto, proto.MessageEnd());
                        else proto.Skip(attributeWire);
                    }
                    if (f is { } floatValue) floats[name] = floatValue;
                    if (i is { } intValue) ints[name] = intValue;
                    if (t is not null && name == "value") value = t;
                    break;
                default: proto.Skip(wireType); break;
            }
        }
        return new OnnxNodeInfo(opType, domain, [.. inputs], [.. outputs], floats, ints, value);
    }

    private static OnnxTensorInfo ReadTensor(ProtoStream proto, long end)
    {
        var tensor = new OnnxTensorInfo();
        List<long> dims = [];
        string? location = null;
        long offset = 0;
        long? length = null;
        while (proto.TryReadTag(end, out var field, out var wireType))
        {
            switch (field)
            {
                case TensorDims when wireType == ProtoStream.Varint: dims.Add((long)proto.ReadVarint()); break;
                case TensorDims when wireType == ProtoStream.LengthDelimited:
                    var dimsEnd = proto.MessageEnd();
                    while (proto.Position < dimsEnd) dims.Add((long)proto.ReadVarint());
                    break;
                case TensorDataType when wireType == ProtoStream.Varint: tensor.DataType = (int)proto.ReadVarint(); break;
                case TensorName when wireType == ProtoStream.LengthDelimited: tensor.Name = proto.ReadString(); break;
                case TensorRawData or TensorFloatData or TensorInt32Data when wireType == ProtoStream.LengthDelimited:
                    var dataLength = (long)proto.ReadVarint();
                    tensor.Inline = (field, proto.Position, dataLength);
                    proto.SkipBytes(dataLength);
                    break;
                case TensorFloatData when wireType == ProtoStream.Fixed32:
                    (tensor.UnpackedValues ??= []).Add((int)proto.ReadFixed32());
                    break;
                case TensorInt32Data when wireType == ProtoStream.Varint:
                    (tensor.UnpackedValues ??= []).Add((int)proto.ReadVarint());
                    break;
                case TensorExternalData when wireType == ProtoStream.LengthDelimited:
                    var entryEnd = proto.MessageEnd();
                    string key = "", value = "";
                    while (proto.TryReadTag(entryEnd, out var entryField, out var entryWire))
                    {
                        if (entryField == EntryKey && entryWire == ProtoStream.LengthDelimited) key = proto.ReadString();
                        else if (entryField == EntryValue && entryWire == ProtoStream.LengthDelimited) value = proto.ReadString();
                        else proto.Skip(entryWire);
                    }
                    if (key == "location") location = value;
                    else if (key == "offset") offset = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                    else if (key == "length") length = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case TensorDataLocation when wireType == ProtoStream.Varint: tensor.External = proto.ReadVarint() == 1; break;
                default: proto.Skip(wireType); break;
            }
        }
        tensor.Dims = [.. dims];
        if (tensor.External)
        {
            tensor.ExternalLocation = location ?? throw new InvalidDataException($"tensor '{tensor.Name}' is stored externally but names no location");
            tensor.ExternalOffset = offset;
            tensor.ExternalLength = length;
        }
        return tensor;
    }

    private static int ElementSize(OnnxTensorInfo tensor) => tensor.DataType switch
    {
        Float => 4,
        Float16 or BFloat16 => 2,
        _ => throw new InvalidDataException($"tensor '{tensor.Name}' has data type {tensor.DataType}; float, float16 or bfloat16 was expected"),
    };

    private static float[] Decode(byte[] bytes, int dataType, float[] values, OnnxTensorInfo tensor)
    {
        var size = dataType == Float ? 4 : ElementSize(tensor);
        if (bytes.Length != size * values.Length)
            throw new InvalidDataException($"tensor '{tensor.Name}' holds {bytes.Length} bytes but {values.Length} values of {size} bytes were expected");
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = size == 4
                ? BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(4 * i))
                : HalfBits(dataType, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2 * i)));
        }
        return values;
    }

    // int32_data holds one float16/bfloat16 value's bits per varint (onnx.proto).
    private static float[] DecodeVarintHalves(byte[] bytes, int dataType, float[] values, OnnxTensorInfo tensor)
    {
        ElementSize(tensor);
        var proto = new ProtoStream(new MemoryStream(bytes));
        for (var i = 0; i < values.Length; i++)
        {
            if (proto.Position >= bytes.Length) throw new InvalidDataException($"tensor '{tensor.Name}' holds fewer than {values.Length} values");
            values[i] = HalfBits(dataType, (int)proto.ReadVarint());
        }
        return values;
    }

    private static float HalfBits(int dataType, int bits) => dataType == BFloat16
        ? BitConverter.Int32BitsToSingle((bits & 0xFFFF) << 16)
        : (float)BitConverter.UInt16BitsToHalf((ushort)bits);

    private static byte[] ReadExactly(Stream stream, long length, OnnxTensorInfo tensor)
    {
        if (length < 0 || stream.Position + length > stream.Length)
            throw new InvalidDataException($"tensor '{tensor.Name}' claims {length} bytes beyond the end of its file");
        var bytes = new byte[checked((int)length)];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>Protobuf wire-format reading over a seekable stream (varints, fixed32, length-delimited fields).</summary>
    private sealed class ProtoStream(Stream stream)
    {
        public const int Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5;

        public long Position => stream.Position;

        public bool TryReadTag(long end, out int field, out int wireType)
        {
            field = wireType = 0;
            if (stream.Position >= end) return false;
            var tag = ReadVarint();
            field = (int)(tag >> 3);
            wireType = (int)(tag & 7);
            if (field == 0) throw new InvalidDataException($"not an ONNX model: field number 0 at byte {stream.Position}");
            return true;
        }

        public ulong ReadVarint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = stream.ReadByte();
                if (b < 0) throw new InvalidDataException("not an ONNX model: it ends inside a varint");
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return value;
            }
            throw new InvalidDataException("not an ONNX model: a varint is longer than 10 bytes");
        }

        public uint ReadFixed32()
        {
            Span<byte> bytes = stackalloc byte[4];
            stream.ReadExactly(bytes);
            return BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        }

        /// <summary>Reads a length prefix and returns where that field's bytes end.</summary>
        public long MessageEnd()
        {
            var length = (long)ReadVarint();
            var end = stream.Position + length;
            if (length < 0 || end > stream.Length) throw new InvalidDataException($"not an ONNX model: a field of {length} bytes runs past the end of the file");
            return end;
        }

        public string ReadString()
        {
            var length = checked((int)ReadVarint());
            Span<byte> bytes = length <= 256 ? stackalloc byte[length] : new byte[length];
            stream.ReadExactly(bytes);
            return Encoding.UTF8.GetString(bytes);
        }

        public void SkipBytes(long length) => stream.Seek(length, SeekOrigin.Current);

        public void Skip(int wireType)
        {
            switch (wireType)
            {
                case Varint: ReadVarint(); break;
                case Fixed64: SkipBytes(8); break;
                case LengthDelimited: SkipBytes((long)ReadVarint()); break;
                case Fixed32: SkipBytes(4); break;
                default: throw new InvalidDataException($"not an ONNX model: wire type {wireType} at byte {stream.Position}");
            }
        }
    }
}

/// <summary>A graph node as <see cref="OnnxGraphReader"/> reads it: its Constant value, when it is a Constant node.</summary>
internal sealed record OnnxNodeInfo(
    string OpType,
    string Domain,
    string[] Inputs,
    string[] Outputs,
    IReadOnlyDictionary<string, float> FloatAttributes,
    IReadOnlyDictionary<string, long> IntAttributes,
    OnnxTensorInfo? Value);

/// <summary>Where a constant tensor's values are: inline in the model file, or in an external data file beside it.</summary>
internal sealed class OnnxTensorInfo
{
    public string Name { get; set; } = "";
    public int DataType { get; set; }
    public long[] Dims { get; set; } = [];
    public (int Field, long Offset, long Length)? Inline { get; set; }
    public List<int>? UnpackedValues { get; set; }
    public bool External { get; set; }
    public string? ExternalLocation { get; set; }
    public long ExternalOffset { get; set; }
    public long? ExternalLength { get; set; }

    /// <summary>Elements: the product of the dimensions (1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            var count = 1L;
            foreach (var dim in Dims) count *= dim;
            return count;
        }
    }
}
