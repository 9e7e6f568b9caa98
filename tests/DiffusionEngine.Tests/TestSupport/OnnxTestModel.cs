using System.Text;

namespace DiffusionEngine.Tests.TestSupport;

/// <summary>
/// Writes minimal ONNX models (one Identity node) with whatever inputs a test needs, to check the loader's handling of
/// tensor types and ranks that the tiny model builder never produces. Protobuf encoded by hand (onnx.proto field numbers).
/// </summary>
public static class OnnxTestModel
{
    public const int OnnxFloat = 1, OnnxInt32 = 6, OnnxInt64 = 7, OnnxFloat16 = 10, OnnxDouble = 11;

    /// <summary>A tensor declaration: dims are numbers (fixed) or strings (symbolic, e.g. "batch").</summary>
    public sealed record Tensor(string Name, int ElementType, params object[] Dims);

    /// <summary>
    /// Writes a model whose graph declares <paramref name="inputs"/> and produces <paramref name="outputName"/> as
    /// Identity(<paramref name="inputs"/>[0]) with the same type.
    /// </summary>
    public static void WriteIdentity(string path, string outputName, params Tensor[] inputs)
    {
        var graph = new ProtoBuffer();
        var node = new ProtoBuffer();
        node.String(1, inputs[0].Name);
        node.String(2, outputName);
        node.String(3, "identity");
        node.String(4, "Identity");
        graph.Message(1, node);
        graph.String(2, "test-graph");
        foreach (var input in inputs) graph.Message(11, ValueInfo(input));
        graph.Message(12, ValueInfo(inputs[0] with { Name = outputName }));

        var opset = new ProtoBuffer();
        opset.String(1, "");
        opset.Varint(2, 17);
        var model = new ProtoBuffer();
        model.Varint(1, 8); // ir_version
        model.String(2, "DiffusionEngine.Tests");
        model.Message(7, graph);
        model.Message(8, opset);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, model.ToArray());
    }

    private static ProtoBuffer ValueInfo(Tensor tensor)
    {
        var shape = new ProtoBuffer();
        foreach (var dim in tensor.Dims)
        {
            var dimension = new ProtoBuffer();
            if (dim is string symbol) dimension.String(2, symbol);
            else dimension.Varint(1, Convert.ToUInt64(dim));
            shape.Message(1, dimension);
        }
        var tensorType = new ProtoBuffer();
        tensorType.Varint(1, (ulong)tensor.ElementType);
        tensorType.Message(2, shape);
        var type = new ProtoBuffer();
        type.Message(1, tensorType);
        var info = new ProtoBuffer();
        info.String(1, tensor.Name);
        info.Message(2, type);
        return info;
    }

    private sealed class ProtoBuffer
    {
        private readonly MemoryStream _bytes = new();

        public void Varint(int field, ulong value)
        {
            Tag(field, 0);
            Raw(value);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Message(int field, ProtoBuffer message) => Bytes(field, message.ToArray());

        public byte[] ToArray() => _bytes.ToArray();

        private void Bytes(int field, byte[] value)
        {
            Tag(field, 2);
            Raw((ulong)value.Length);
            _bytes.Write(value);
        }

        private void Tag(int field, int wireType) => Raw((ulong)(field << 3 | wireType));

        private void Raw(ulong value)
        {
            while (value >= 0x80)
            {
                _bytes.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            _bytes.WriteByte((byte)value);
        }
    }
}
