namespace DiffusionEngine.Tests.Noise;

/// <summary>Comparisons for noise reference values, naming the first element that is off.</summary>
internal static class NoiseAssert
{
    /// <summary>|actual - expected| ≤ tolerance for every element.</summary>
    public static void Close(IReadOnlyList<double> expected, ReadOnlySpan<float> actual, double tolerance)
    {
        Assert.Equal(expected.Count, actual.Length);
        for (var i = 0; i < expected.Count; i++)
        {
            var difference = Math.Abs(actual[i] - expected[i]);
            Assert.True(difference <= tolerance,
                $"element {i}: expected {expected[i]:R} but was {actual[i]:R} (|Δ| = {difference:E2} > {tolerance:E1})");
        }
    }

    /// <summary>Values given to 4 decimals match to 4 decimals (|Δ| ≤ half a unit in the 4th place).</summary>
    public static void FourDecimals(IReadOnlyList<double> expected, ReadOnlySpan<float> actual) =>
        Close(expected, actual, 0.5e-4 + 1e-9);

    /// <summary>Bit-identical float32 values.</summary>
    public static void BitEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToUInt32Bits(expected[i]) != BitConverter.SingleToUInt32Bits(actual[i]))
            {
                Assert.Fail($"element {i}: expected {expected[i]:R} but was {actual[i]:R}");
            }
        }
    }
}
