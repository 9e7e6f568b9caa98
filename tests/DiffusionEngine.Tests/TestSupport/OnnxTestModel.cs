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

    /// <summary>
    /// Writes a graph whose output <paramref name="outputName"/> is <c>Add(Mul(x, scale), bias)</c>, the tail of a LayerNorm
    /// exported before opset 17: <paramref name="scale"/> as an initializer in float_data, <paramref name="bias"/> as a
    /// Constant node's raw_data behind a Cast. Not meant to run; for readers of the graph's structure.
    /// </summary>
    public static void WriteAffineOutput(string path, string outputName, float[] scale, float[] bias)
    {
        var graph = new ProtoBuffer();
        graph.Message(1, Node("Constant", [], ["bias_constant"], value: Floats("", bias, raw: true)));
        graph.Message(1, Node("Cast", ["bias_constant"], ["bias"]));
        graph.Message(1, Node("Mul", ["x", "scale"], ["scaled"]));
        graph.Message(1, Node("Add", ["scaled", "bias"], [outputName]));
        graph.String(2, "affine");
        graph.Message(5, Floats("scale", scale, raw: false));
        graph.Message(11, ValueInfo(new Tensor("x", OnnxFloat, 1, 3, scale.Length)));
        graph.Message(12, ValueInfo(new Tensor(outputName, OnnxFloat, 1, 3, scale.Length)));
        var model = new ProtoBuffer();
        model.Varint(1, 8);
        model.Message(7, graph);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, model.ToArray());
    }

    private static ProtoBuffer Node(string opType, string[] inputs, string[] outputs, ProtoBuffer? value = null)
    {
        var node = new ProtoBuffer();
        foreach (var input in inputs) node.String(1, input);
        foreach (var output in outputs) node.String(2, output);
        node.String(4, opType);
        if (value is not null)
        {
            var attribute = new ProtoBuffer();
            attribute.String(1, "value");
            attribute.Message(5, value);
            attribute.Varint(20, 4); // AttributeType.TENSOR
            node.Message(5, attribute);
        }
        return node;
    }

    private static ProtoBuffer Floats(string name, float[] values, bool raw)
    {
        var tensor = new ProtoBuffer();
        tensor.Varint(1, (ulong)values.Length);
        tensor.Varint(2, OnnxFloat);
        var bytes = new byte[4 * values.Length];
        for (var i = 0; i < values.Length; i++) BitConverter.TryWriteBytes(bytes.AsSpan(4 * i), values[i]);
        if (!raw) tensor.Packed(4, bytes); // float_data
        if (name.Length > 0) tensor.String(8, name);
        if (raw) tensor.Packed(9, bytes); // raw_data
        return tensor;
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

        public void Packed(int field, byte[] value) => Bytes(field, value);

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
