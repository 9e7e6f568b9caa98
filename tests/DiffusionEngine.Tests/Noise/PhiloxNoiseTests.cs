using DiffusionEngine.Noise;

namespace DiffusionEngine.Tests.Noise;

/// <summary>A1111 "NV" Philox values (docs/rng.md §6), generated upstream by rng_philox.py.</summary>
public class PhiloxNoiseTests
{
    private static float[] Randn(PhiloxNoise noise, int count)
    {
        var values = new float[count];
        noise.Fill(values);
        return values;
    }

    [Theory]
    [InlineData(0u, 0u, 0u, 0u, 0u, 0u, 1713891541u, 3781805453u, 3159862348u, 2600524760u)]
    [InlineData(0u, 0u, 1u, 0u, 0u, 0u, 2219120097u, 4035800746u, 253345875u, 2214098416u)]
    [InlineData(1u, 0u, 0u, 0u, 0u, 0u, 4175744164u, 1555169499u, 2980410603u, 159317863u)]
    [InlineData(0u, 0u, 12345u, 0u, 42u, 0u, 449781516u, 2829767016u, 289552672u, 4147685951u)]
    [InlineData(3u, 0u, 7u, 0u, 3735928559u, 305419896u, 1121449622u, 1933514520u, 647440249u, 2941249528u)]
    [InlineData(uint.MaxValue, uint.MaxValue, uint.MaxValue, uint.MaxValue, uint.MaxValue, uint.MaxValue,
        1083123565u, 1103641358u, 2718681030u, 1834242557u)]
    public void Philox4x32_10_MatchesTheUpstreamRawVectorsBitForBit(
        uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint x0, uint x1, uint x2, uint x3)
    {
        Assert.Equal((x0, x1, x2, x3), Philox4x32.Generate(c0, c1, c2, c3, k0, k1));
    }

    [Fact]
    public void BoxMullerConstants_AreTheFloat32ConstantsOfRngPhilox()
    {
        var inverse = PhiloxNoise.TwoPow32Inv;
        var angleScale = PhiloxNoise.TwoPow32InvTwoPi;
        Assert.Equal(Math.ScaleB(1.0, -32), inverse);
        Assert.Equal(0x30C90FDBu, BitConverter.SingleToUInt32Bits((float)angleScale));
        Assert.Equal((double)(float)angleScale, angleScale);
    }

    [Fact]
    public void Seed0_FirstAndSecondCall_MatchTheLiveA1111Values()
    {
        var noise = new PhiloxNoise(0);
        NoiseAssert.Close(
            [-0.924662411, -0.425343961, -2.6438458, 0.145183876, -0.120866507, -0.579725683, -0.622851312,
             -0.328387141, -1.07454205, -0.3631441, -1.67105043, 2.26550508, 0.311685026, -0.184189051, 1.28664255,
             1.1819526],
            Randn(noise, 16), 1e-7);
        NoiseAssert.Close(
            [0.180825889, -0.552262723, 0.923813403, -0.734970331, 1.37999463, 0.86763072, 0.129655927, -0.940639973],
            Randn(noise, 8), 1e-7);
    }

    [Fact]
    public void Seed0_3x4_AgreesWithTheRngPhiloxDocstringAndCudaToFourDecimals()
    {
        // The docstring values are ~1e-7 off the live code (rng.md §3.4); they are checked to 4 decimals here.
        NoiseAssert.FourDecimals(
            [-0.92466259, -0.42534415, -2.6438457, 0.14518388, -0.12086647, -0.57972564, -0.62285122, -0.32838709,
             -1.07454231, -0.36314407, -1.67105067, 2.26550497],
            Randn(new PhiloxNoise(0), 12));
        NoiseAssert.FourDecimals([-0.9247, -0.4253, -2.6438], Randn(new PhiloxNoise(0), 3));
    }

    [Fact]
    public void Seed0_4x64x64_HashAndLastValues_MatchTheUpstreamFixture()
    {
        var latent = Randn(new PhiloxNoise(0), 4 * 64 * 64);
        Assert.Equal(9106944524394698214UL, Fnv1a64.Hash(latent));
        NoiseAssert.Close(
            [-1.78852570, 0.581430316, -0.48302114, -1.47466850, -0.664592266, -0.131549910, -0.42083317, -2.95431590],
            latent.AsSpan(latent.Length - 8), 1e-7);
    }

    [Fact]
    public void ElementValues_DependOnlyOnTheirIndex_SoEveryPrefixIsStable()
    {
        var small = Randn(new PhiloxNoise(99), 37);
        var large = Randn(new PhiloxNoise(99), 1000);
        NoiseAssert.BitEqual(large.AsSpan(0, 37), small);
    }

    [Fact]
    public void Seed_AllSixtyFourBitsMatter()
    {
        Assert.NotEqual(Randn(new PhiloxNoise(7), 16), Randn(new PhiloxNoise(7 + (1UL << 32)), 16));
    }
}
