namespace DiffusionEngine.TinyModel.Onnx;

/// <summary>A node attribute (AttributeProto): exactly one of the value kinds is set, as <see cref="Kind"/> says.</summary>
internal sealed record OnnxAttribute
{
    private OnnxAttribute(string name, OnnxAttributeKind kind) => (Name, Kind) = (name, kind);

    public string Name { get; }

    public OnnxAttributeKind Kind { get; }

    public float FloatValue { get; private init; }

    public long IntValue { get; private init; }

    public string? StringValue { get; private init; }

    public IReadOnlyList<long> IntsValue { get; private init; } = [];

    public static OnnxAttribute Float(string name, float value) => new(name, OnnxAttributeKind.Float) { FloatValue = value };

    public static OnnxAttribute Int(string name, long value) => new(name, OnnxAttributeKind.Int) { IntValue = value };

    public static OnnxAttribute String(string name, string value) => new(name, OnnxAttributeKind.String) { StringValue = value };

    public static OnnxAttribute Ints(string name, params long[] values) => new(name, OnnxAttributeKind.Ints) { IntsValue = values };
}

/// <summary>AttributeProto.AttributeType values (onnx.proto).</summary>
internal enum OnnxAttributeKind
{
    Float = 1,
    Int = 2,
    String = 3,
    Ints = 7,
}
