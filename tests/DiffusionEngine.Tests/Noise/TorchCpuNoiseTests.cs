using DiffusionEngine.Noise;

namespace DiffusionEngine.Tests.Noise;

/// <summary>Published torch.randn values (docs/rng.md §5), each with torch.manual_seed(seed) right before.</summary>
public class TorchCpuNoiseTests
{
    private const double NineDigits = 1e-7;

    private static float[] Randn(TorchCpuNoise noise, int count)
    {
        var values = new float[count];
        noise.Fill(values);
        return values;
    }

    private static float[] Randn(ulong seed, int count) => Randn(new TorchCpuNoise(seed), count);

    // §5.1 scalar path (numel < 16), seed 0: randn(4, 3) then randn(3) on the same generator.
    [Fact]
    public void ScalarPath_Seed0_Randn4x3ThenRandn3_MatchesTorchToNineDigits()
    {
        var noise = new TorchCpuNoise(0);
        NoiseAssert.Close(
            [1.54099607, -0.293428898, -2.17878938, 0.568431258, -1.08452237, -1.39859545, 0.403346837, 0.838026344,
             -0.719257593, -0.403343529, -0.596635341, 0.182036489],
            Randn(noise, 12), NineDigits);
        NoiseAssert.Close([-0.856674611, 1.10060418, -1.07118738], Randn(noise, 3), NineDigits);
    }

    [Fact]
    public void ScalarPath_Seed0_Randn15_MatchesTheFourDecimalValues()
    {
        NoiseAssert.FourDecimals(
            [1.5410, -0.2934, -2.1788, 0.5684, -1.0845, -1.3986, 0.4033, 0.8380, -0.7193, -0.4033, -0.5966, 0.1820,
             -0.8567, 1.1006, -1.0712],
            Randn(0, 15));
    }

    [Fact]
    public void ScalarPath_Seed42_MatchesTheDocumentedValues()
    {
        NoiseAssert.FourDecimals([0.3367, 0.1288, 0.2345], Randn(42, 3));
        NoiseAssert.Close([0.336690366, 0.128809407, 0.234462366, 0.23033303, -1.12285638], Randn(42, 5), NineDigits);

        // nn.Embedding(5, 3): 15 elements, scalar path; rows 0, 2 and 3.
        var embedding = Randn(42, 15);
        NoiseAssert.FourDecimals([0.3367, 0.1288, 0.2345], embedding.AsSpan(0, 3));
        NoiseAssert.FourDecimals([2.2082, -0.6380, 0.4617], embedding.AsSpan(6, 3));
        NoiseAssert.FourDecimals([0.2674, 0.5349, 0.8094], embedding.AsSpan(9, 3));
    }

    [Fact]
    public void ScalarCache_SurvivesABlockPathCall_AndIsReturnedByTheNextScalarDraw()
    {
        var noise = new TorchCpuNoise(0);
        NoiseAssert.Close([1.541, -0.293429, -2.17879], Randn(noise, 3), 1e-5);
        NoiseAssert.Close([-0.356128], Randn(noise, 16).AsSpan(0, 1), 1e-6);
        NoiseAssert.Close([0.568431258], Randn(noise, 1), NineDigits);
    }

    [Fact]
    public void ScalarPath_RandnCallsConcatenate_LikeOneLargerScalarCall()
    {
        var split = new TorchCpuNoise(7);
        var joined = Randn(7, 6);
        NoiseAssert.BitEqual(joined, [.. Randn(split, 3), .. Randn(split, 3)]);
    }

    // §5.2 block path (numel ≥ 16), seed 0.
    [Fact]
    public void BlockPath_Seed0_Randn1x2x3x4_MatchesTorchToEightDecimals_IncludingTheTailWindow()
    {
        NoiseAssert.Close(
            [-1.12583983, -1.15236020, -0.25057858, -0.43387881, 0.84871036, 0.69200915, -0.31601277, -2.11521935,
             0.46809641, -0.15771244, 1.44366014, 0.26604941, 0.16645534, 0.87438184, -0.14347385, -0.11160933,
             0.93182659, 1.25900924, 2.00498056, 0.05373690, 0.61805665, -0.41280222, -0.84106481, -2.31604195],
            Randn(0, 24), NineDigits);
    }

    [Fact]
    public void BlockPath_Seed0_Randn16_MatchesTheFourDecimalAndNineDigitValues()
    {
        var values = Randn(0, 16);
        NoiseAssert.FourDecimals(
            [-1.1258, -1.1524, -0.2506, -0.4339, 0.8487, 0.6920, -0.3160, -2.1152, 0.3223, -1.2633, 0.3500, 0.3081,
             0.1198, 1.2377, 1.1168, -0.2473],
            values);
        NoiseAssert.Close(
            [-1.12583983, -1.1523602, -0.250578582, -0.433878809, 0.848710358, 0.692009151, -0.31601277, -2.11521935,
             0.322274923, -1.26333475, 0.349983186, 0.30813393, 0.119841509, 1.2376579, 1.11677718, -0.247278154],
            values, NineDigits);
    }

    [Fact]
    public void BlockPath_Seed0_Randn48_MatchesTheFourDecimalValues()
    {
        NoiseAssert.FourDecimals(
            [-1.1258, -1.1524, -0.2506, -0.4339, 0.8487, 0.6920, -0.3160, -2.1152, 0.3223, -1.2633, 0.3500, 0.3081,
             0.1198, 1.2377, 1.1168, -0.2473,
             -1.3527, -1.6959, 0.5667, 0.7935, 0.5988, -1.5551, -0.3414, 1.8530, 0.7502, -0.5855, -0.1734, 0.1835,
             1.3894, 1.5863, 0.9463, -0.8437, -0.6136, 0.0316, -0.4927, 0.2484, 0.4397, 0.1124, 0.6408, 0.4412,
             -0.1023, 0.7924, -0.2897, 0.0525, 0.5229, 2.3022, -1.4689, -1.5867],
            Randn(0, 48));
    }

    [Fact]
    public void BlockPath_Seed0_Randn27_TailWindowStartsAtElement11()
    {
        NoiseAssert.FourDecimals(
            [-1.1258, -1.1524, -0.2506, -0.4339, 0.8487, 0.6920, -0.3160, -2.1152, 0.3223, -1.2633, 0.3500, 0.2660,
             0.1665, 0.8744, -0.1435, -0.1116, -0.6136, 0.0316, -0.4927, 0.0537, 0.6181, -0.4128, -0.8411, -2.3160,
             -0.1023, 0.7924, -0.2897],
            Randn(0, 27));
    }

    [Fact]
    public void Stream_Seed0_Randn5x5ThenRandn3x3_ContinuesFromBlockPathIntoScalarPath()
    {
        var noise = new TorchCpuNoise(0);
        NoiseAssert.FourDecimals(
            [-1.1258, -1.1524, -0.2506, -0.4339, 0.8487, 0.692, -0.316, -2.1152, 0.3223, -0.1577, 1.4437, 0.266, 0.1665,
             0.8744, -0.1435, -0.1116, -0.6136, 1.259, 2.005, 0.0537, 0.6181, -0.4128, -0.8411, -2.316, -0.1023],
            Randn(noise, 25));
        NoiseAssert.FourDecimals(
            [0.7455, -0.246, 0.8512, -0.3502, 1.6881, -2.1575, -1.3927, -0.3611, 1.874],
            Randn(noise, 9));
    }

    [Fact]
    public void BlockPath_Seed0_Embedding10x16_Row8_MatchesTheFourDecimalValues()
    {
        var weights = Randn(0, 160);
        NoiseAssert.FourDecimals(
            [-0.8834, -0.4189, -0.8048, 0.5656, 0.6104, 0.4669, 1.9507, -1.0631, -0.0773, 0.1164, -0.5940, -1.2439,
             -0.1021, -1.0335, -0.3126, 0.2458],
            weights.AsSpan(8 * 16, 16));
    }

    [Fact]
    public void BlockPath_PrefixBeforeTheLast16_EqualsTheSamePrefixOfALargerDraw()
    {
        var small = Randn(1234, 16 * 5 + 9);
        var large = Randn(1234, 16 * 9);
        NoiseAssert.BitEqual(large.AsSpan(0, small.Length - 16), small.AsSpan(0, small.Length - 16));
    }

    [Fact]
    public void Seed_OnlyItsLow32BitsMatter()
    {
        NoiseAssert.BitEqual(Randn(7, 40), Randn(7 + (1UL << 32), 40));
        NoiseAssert.BitEqual(Randn(7, 5), Randn(7 + (5UL << 32), 5));
        Assert.NotEqual(Randn(7, 40), Randn(8, 40));
    }

    [Fact]
    public void Fill_EmptySpan_DrawsNothing()
    {
        var noise = new TorchCpuNoise(0);
        noise.Fill(Span<float>.Empty);
        NoiseAssert.Close([1.54099607], Randn(noise, 1), NineDigits);
    }
}
