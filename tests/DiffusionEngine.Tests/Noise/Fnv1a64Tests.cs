using System.Text;
using DiffusionEngine.Noise;

namespace DiffusionEngine.Tests.Noise;

public class Fnv1a64Tests
{
    [Theory]
    [InlineData("", 0xcbf29ce484222325UL)]
    [InlineData("a", 0xaf63dc4c8601ec8cUL)]
    [InlineData("foobar", 0x85944171f73967e8UL)]
    public void Hash_MatchesThePublishedFnv1a64TestVectors(string text, ulong expected)
    {
        Assert.Equal(expected, Fnv1a64.Hash(Encoding.ASCII.GetBytes(text)));
    }

    [Fact]
    public void Hash_OfFloats_IsTheHashOfTheirLittleEndianBytes()
    {
        float[] values = [1f, -2.5f];
        byte[] bytes = [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC0];
        Assert.Equal(Fnv1a64.Hash(bytes), Fnv1a64.Hash(values.AsSpan()));
    }
}
