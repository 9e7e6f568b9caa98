using DiffusionEngine.TinyModel.Onnx;

namespace DiffusionEngine.Tests.TinyModel;

public sealed class ProtoWriterTests
{
    [Theory]
    [InlineData(0L, new byte[] { 0x08, 0x00 })]
    [InlineData(150L, new byte[] { 0x08, 0x96, 0x01 })]
    [InlineData(-1L, new byte[] { 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })]
    public void WriteInt64_EncodesTagAndVarintAsProtobufDoes(long value, byte[] expected)
    {
        var writer = new ProtoWriter();
        writer.WriteInt64(1, value);
        Assert.Equal(expected, writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteMessage_PrefixesTheNestedBytesWithTheirLength()
    {
        var writer = new ProtoWriter();
        writer.WriteMessage(7, nested => nested.WriteString(2, "ab"));
        Assert.Equal(new byte[] { 0x3A, 0x04, 0x12, 0x02, (byte)'a', (byte)'b' }, writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteFloat_UsesFixed32LittleEndian()
    {
        var writer = new ProtoWriter();
        writer.WriteFloat(2, 1f);
        Assert.Equal(new byte[] { 0x15, 0x00, 0x00, 0x80, 0x3F }, writer.WrittenSpan.ToArray());
    }
}
