using System.Globalization;
using DiffusionEngine.Models;
using Google.Protobuf;
using Onnx;

namespace DiffusionEngine.Optimization;

/// <summary>
/// One ONNX model held for rewriting: the ModelProto (graph, opsets, metadata; every field of onnx.proto is kept, so
/// what the optimizer does not touch is written back as it was) plus where its external weights live.
/// Weights stored as ONNX external data (models over protobuf's 2 GB limit, e.g. an SD UNet) are not read into memory
/// when the model is opened: <see cref="ReadBytes"/> reads one tensor on demand, and <see cref="Save"/> streams them
/// into the new data file one at a time (converting the ones <see cref="MarkForFloat16"/> marked). Not thread-safe.
/// </summary>
internal sealed class OnnxModelDocument
{
    /// <summary>Name of the external-data file written beside model.onnx (Optimum's and onnx.save's convention).</summary>
    public const string ExternalDataFileName = "model.onnx_data";

    /// <summary>Tensors smaller than this stay inline when the model is saved with external data.</summary>
    private const int ExternalThresholdBytes = 1024;

    /// <summary>Models whose weights total more than this are saved with external data even when the source had none.</summary>
    private const long InlineLimitBytes = 1L << 30;

    private readonly HashSet<TensorProto> _pendingFloat16 = new(ReferenceEqualityComparer.Instance);

    private OnnxModelDocument(ModelProto model, string path)
    {
        Model = model;
        Path = path;
        Directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
    }

    public ModelProto Model { get; }

    public GraphProto Graph => Model.Graph;

    /// <summary>The .onnx file it was read from; external data locations are relative to <see cref="Directory"/>.</summary>
    public string Path { get; }

    public string Directory { get; }

    /// <summary>Whether any initializer of the source lives in an external file.</summary>
    public bool HasExternalData
    {
        get
        {
            foreach (var tensor in Graph.Initializer)
                if (IsExternal(tensor)) return true;
            return false;
        }
    }

    /// <summary>Reads <paramref name="path"/> (external data stays on disk until needed).</summary>
    /// <exception cref="ModelLoadException">The file is missing or is not an ONNX model.</exception>
    public static OnnxModelDocument Load(string path)
    {
        if (!File.Exists(path)) throw new ModelLoadException(path, "the file does not exist");
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            var model = ModelProto.Parser.ParseFrom(stream);
            if (model.Graph is null) throw new ModelLoadException(path, "the model has no graph");
            return new OnnxModelDocument(model, path);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new ModelLoadException(path, $"not an ONNX model: {ex.Message}", ex);
        }
    }

    public static bool IsExternal(TensorProto tensor) => tensor.DataLocation == TensorProto.Types.DataLocation.External;

    /// <summary>
    /// The tensor's values in ONNX raw little-endian layout (raw_data, external data or the typed repeated fields),
    /// as stored: a tensor marked for float16 is still float32 here.
    /// </summary>
    public byte[] ReadBytes(TensorProto tensor)
    {
        if (IsExternal(tensor)) return ReadExternal(tensor);
        if (!tensor.RawData.IsEmpty) return tensor.RawData.ToByteArray();
        return TensorValues.TypedFieldsToBytes(tensor);
    }

    /// <summary>
    /// Marks a float32 initializer to be written as float16 (round to nearest even) by <see cref="Save"/>, without
    /// reading its values now; its data_type becomes float16 at once, so the graph is consistent from here on.
    /// </summary>
    public void MarkForFloat16(TensorProto tensor)
    {
        if (tensor.DataType != (int)TensorProto.Types.DataType.Float)
            throw new InvalidOperationException($"initializer '{tensor.Name}' is not float32");
        _pendingFloat16.Add(tensor);
        tensor.DataType = (int)TensorProto.Types.DataType.Float16;
    }

    /// <summary>
    /// A new initializer with the same name-independent contents as <paramref name="source"/> (sharing its external
    /// location or copying its inline bytes), named <paramref name="name"/>, added to the graph.
    /// </summary>
    public TensorProto AddCopyOf(TensorProto source, string name)
    {
        var copy = source.Clone();
        copy.Name = name;
        if (_pendingFloat16.Contains(source)) _pendingFloat16.Add(copy);
        Graph.Initializer.Add(copy);
        return copy;
    }

    /// <summary>
    /// Writes the model to <paramref name="path"/>. Weights go to <see cref="ExternalDataFileName"/> beside it when the
    /// source had external data or they total more than 1 GiB; otherwise inline. Marked tensors are converted to float16
    /// as they are written. The source files are only read, so <paramref name="path"/> must not be <see cref="Path"/>.
    /// </summary>
    public void Save(string path)
    {
        var fullPath = System.IO.Path.GetFullPath(path);
        if (string.Equals(fullPath, System.IO.Path.GetFullPath(Path), StringComparison.Ordinal))
            throw new ArgumentException("the optimised model must be written to another file than its source", nameof(path));
        var directory = System.IO.Path.GetDirectoryName(fullPath)!;
        System.IO.Directory.CreateDirectory(directory);
        var external = HasExternalData || TotalInitializerBytes() > InlineLimitBytes;
        var dataPath = System.IO.Path.Combine(directory, ExternalDataFileName);

        FileStream? data = external ? new FileStream(dataPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20) : null;
        try
        {
            foreach (var tensor in Graph.Initializer) WriteTensor(tensor, data);
        }
        finally
        {
            data?.Dispose();
        }
        if (!external && File.Exists(dataPath)) File.Delete(dataPath);
        _pendingFloat16.Clear();

        using var file = new FileStream(fullPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Model.WriteTo(file);
    }

    private void WriteTensor(TensorProto tensor, FileStream? data)
    {
        var external = IsExternal(tensor);
        var pending = _pendingFloat16.Contains(tensor);
        var size = external ? ExternalLength(tensor) : tensor.RawData.Length;
        var goesExternal = data is not null && (external || size >= ExternalThresholdBytes || pending && ElementCount(tensor) * 2 >= ExternalThresholdBytes);
        if (!external && !pending && !goesExternal) return; // inline and unchanged: already in the proto as it should be

        var bytes = ReadBytes(tensor);
        if (pending) bytes = TensorValues.Float32BytesToFloat16Bytes(bytes);
        ClearData(tensor);
        if (data is null || bytes.Length < ExternalThresholdBytes)
        {
            tensor.RawData = ByteString.CopyFrom(bytes);
            return;
        }
        // 64-byte alignment lets ORT memory-map the data file and use the weights in place.
        var padding = (int)((64 - data.Position % 64) % 64);
        if (padding > 0) data.Write(new byte[padding]);
        var offset = data.Position;
        data.Write(bytes);
        tensor.DataLocation = TensorProto.Types.DataLocation.External;
        tensor.ExternalData.Add(Entry("location", ExternalDataFileName));
        tensor.ExternalData.Add(Entry("offset", offset.ToString(CultureInfo.InvariantCulture)));
        tensor.ExternalData.Add(Entry("length", bytes.Length.ToString(CultureInfo.InvariantCulture)));
    }

    private static void ClearData(TensorProto tensor)
    {
        tensor.RawData = ByteString.Empty;
        tensor.FloatData.Clear();
        tensor.Int32Data.Clear();
        tensor.Int64Data.Clear();
        tensor.DoubleData.Clear();
        tensor.Uint64Data.Clear();
        tensor.ExternalData.Clear();
        tensor.DataLocation = TensorProto.Types.DataLocation.Default;
    }

    private long TotalInitializerBytes()
    {
        long total = 0;
        foreach (var tensor in Graph.Initializer)
            total += IsExternal(tensor) ? ExternalLength(tensor) : tensor.RawData.Length;
        return total;
    }

    private static long ElementCount(TensorProto tensor)
    {
        long count = 1;
        foreach (var dim in tensor.Dims) count *= dim;
        return count;
    }

    private static StringStringEntryProto Entry(string key, string value) => new() { Key = key, Value = value };

    private static string? ExternalValue(TensorProto tensor, string key)
    {
        foreach (var entry in tensor.ExternalData)
            if (entry.Key == key) return entry.Value;
        return null;
    }

    private static long ExternalLength(TensorProto tensor) =>
        long.Parse(ExternalValue(tensor, "length") ?? "0", CultureInfo.InvariantCulture);

    private byte[] ReadExternal(TensorProto tensor)
    {
        var location = ExternalValue(tensor, "location")
            ?? throw new ModelLoadException(Path, $"initializer '{tensor.Name}' is external but names no location");
        var file = System.IO.Path.GetFullPath(System.IO.Path.Combine(Directory, location));
        if (!file.StartsWith(Directory + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ModelLoadException(Path, $"initializer '{tensor.Name}' points outside the model's folder ({location})");
        if (!File.Exists(file)) throw new ModelLoadException(file, $"the external data of initializer '{tensor.Name}' is missing");
        var offset = long.Parse(ExternalValue(tensor, "offset") ?? "0", CultureInfo.InvariantCulture);
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var length = ExternalValue(tensor, "length") is { } text
            ? long.Parse(text, CultureInfo.InvariantCulture)
            : stream.Length - offset;
        var bytes = new byte[checked((int)length)];
        stream.Position = offset;
        stream.ReadExactly(bytes);
        return bytes;
    }
}
