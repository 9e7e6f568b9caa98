using DiffusionEngine.Noise;

namespace DiffusionEngine.Tests.Noise;

public class Mt19937Tests
{
    [Theory]
    [InlineData(0u, new uint[] { 2357136044, 2546248239, 3071714933 })]
    [InlineData(5489u, new uint[] { 3499211612, 581869302 })]
    public void FirstDraws_AreTheStandardMt19937Outputs(uint seed, uint[] expected)
    {
        var engine = new Mt19937(seed);
        foreach (var value in expected) Assert.Equal(value, engine.NextUInt32());
    }

    [Fact]
    public void Fill_ContinuesTheSameStreamAsSingleDraws_AcrossStateRegenerations()
    {
        var single = new Mt19937(1234);
        var bulk = new Mt19937(1234);
        var expected = new uint[2000];
        for (var i = 0; i < expected.Length; i++) expected[i] = single.NextUInt32();

        var actual = new uint[2000];
        bulk.Fill(actual.AsSpan(0, 5));
        Assert.Equal(expected[5], bulk.NextUInt32());
        bulk.Fill(actual.AsSpan(6, 1300));
        bulk.Fill(actual.AsSpan(1306));
        actual[5] = expected[5];

        Assert.Equal(expected, actual);
    }
}
