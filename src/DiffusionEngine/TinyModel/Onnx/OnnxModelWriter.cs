using System.Globalization;

namespace DiffusionEngine.TinyModel.Onnx;

/// <summary>
/// Serialises an <see cref="OnnxGraph"/> as an ONNX ModelProto (field numbers from onnx.proto), with weights either
/// inline (TensorProto.raw_data) or streamed into one external-data file beside the model (TensorProto.external_data
/// location/offset/length, data_location = EXTERNAL), which is how models over protobuf's 2 GB limit are stored;
/// with external data, learned weights go to the file and structural constants stay inline.
/// The output depends only on the graph: no timestamps, producer version or other ambient values.
/// </summary>
internal static class OnnxModelWriter
{
    /// <summary>Opset of the default domain the graphs are built for (LayerNormalization needs 17).</summary>
    public const int OpsetVersion = 17;

    /// <summary>IR version that goes with opset 17.</summary>
    private const long IrVersion = 8;

    private const int DataLocationExternal = 1;

    /// <summary>
    /// Writes <paramref name="graph"/> to <paramref name="modelPath"/>. When <paramref name="externalDataFileName"/>
    /// is set, every learned weight goes to that file in the model's folder, written sequentially as they are produced.
    /// </summary>
    public static void Write(OnnxGraph graph, string modelPath, string? externalDataFileName)
    {
        FileStream? externalData = null;
        try
        {
            if (externalDataFileName is not null)
            {
                var dataPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath))!, externalDataFileName);
                externalData = new FileStream(dataPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            }

            var model = new ProtoWriter(1 << 16);
            model.WriteInt64(1, IrVersion);
            model.WriteString(2, "DiffusionService.TinyModel");
            model.WriteMessage(7, WriteGraph(graph, externalData, externalDataFileName));
            model.WriteMessage(8, opset =>
            {
                opset.WriteString(1, "");
                opset.WriteInt64(2, OpsetVersion);
            });

            using var file = new FileStream(modelPath, FileMode.Create, FileAccess.Write, FileShare.None);
            file.Write(model.WrittenSpan);
        }
        finally
        {
            externalData?.Dispose();
        }
    }

    private static ProtoWriter WriteGraph(OnnxGraph graph, FileStream? externalData, string? externalDataFileName)
    {
        var writer = new ProtoWriter(1 << 16);
        foreach (var node in graph.Nodes) writer.WriteMessage(1, WriteNode(node));
        writer.WriteString(2, graph.Name);
        foreach (var initializer in graph.Initializers)
            writer.WriteMessage(5, WriteInitializer(initializer, externalData, externalDataFileName));
        foreach (var input in graph.Inputs) writer.WriteMessage(11, WriteValueInfo(input));
        foreach (var output in graph.Outputs) writer.WriteMessage(12, WriteValueInfo(output));
        return writer;
    }

    private static ProtoWriter WriteNode(OnnxNode node)
    {
        var writer = new ProtoWriter();
        foreach (var input in node.Inputs) writer.WriteString(1, input);
        foreach (var output in node.Outputs) writer.WriteString(2, output);
        writer.WriteString(3, node.Name);
        writer.WriteString(4, node.OpType);
        foreach (var attribute in node.Attributes) writer.WriteMessage(5, WriteAttribute(attribute));
        return writer;
    }

    private static ProtoWriter WriteAttribute(OnnxAttribute attribute)
    {
        var writer = new ProtoWriter();
        writer.WriteString(1, attribute.Name);
        switch (attribute.Kind)
        {
            case OnnxAttributeKind.Float:
                writer.WriteFloat(2, attribute.FloatValue);
                break;
            case OnnxAttributeKind.Int:
                writer.WriteInt64(3, attribute.IntValue);
                break;
            case OnnxAttributeKind.String:
                writer.WriteString(4, attribute.StringValue!);
                break;
            case OnnxAttributeKind.Ints:
                foreach (var value in attribute.IntsValue) writer.WriteInt64(8, value);
                break;
            default:
                throw new InvalidOperationException($"attribute kind {attribute.Kind} is not supported");
        }
        writer.WriteInt32(20, (int)attribute.Kind);
        return writer;
    }

    private static ProtoWriter WriteInitializer(OnnxInitializer initializer, FileStream? externalData, string? externalDataFileName)
    {
        var writer = new ProtoWriter();
        foreach (var dim in initializer.Dims) writer.WriteInt64(1, dim);
        writer.WriteInt32(2, (int)initializer.ElementType);
        writer.WriteString(8, initializer.Name);

        // Structural constants (shapes, axes, masks) stay inline: they are small, and ONNX Runtime's shape inference
        // reads shape tensors while loading, before external data is resolved.
        if (externalData is null || !initializer.IsParameter)
        {
            using var raw = new MemoryStream();
            initializer.Data.WriteTo(raw, initializer.ElementType, initializer.ElementCount);
            writer.WriteBytes(9, raw.GetBuffer().AsSpan(0, (int)raw.Length));
            return writer;
        }

        var offset = externalData.Position;
        initializer.Data.WriteTo(externalData, initializer.ElementType, initializer.ElementCount);
        var length = externalData.Position - offset;
        WriteEntry(writer, 13, "location", externalDataFileName!);
        WriteEntry(writer, 13, "offset", offset.ToString(CultureInfo.InvariantCulture));
        WriteEntry(writer, 13, "length", length.ToString(CultureInfo.InvariantCulture));
        writer.WriteInt32(14, DataLocationExternal);
        return writer;
    }

    private static void WriteEntry(ProtoWriter writer, int field, string key, string value) =>
        writer.WriteMessage(field, entry =>
        {
            entry.WriteString(1, key);
            entry.WriteString(2, value);
        });

    private static ProtoWriter WriteValueInfo(OnnxValueInfo info)
    {
        var writer = new ProtoWriter();
        writer.WriteString(1, info.Name);
        writer.WriteMessage(2, type => type.WriteMessage(1, tensor =>
        {
            tensor.WriteInt32(1, (int)info.ElementType);
            // A rank-0 tensor still carries an (empty) shape: no shape at all would mean "unknown rank".
            tensor.WriteMessage(2, shape =>
            {
                foreach (var dim in info.Shape)
                {
                    shape.WriteMessage(1, dimension =>
                    {
                        if (dim.Parameter is null) dimension.WriteInt64(1, dim.Value);
                        else dimension.WriteString(2, dim.Parameter);
                    });
                }
            });
        }));
        return writer;
    }
}
