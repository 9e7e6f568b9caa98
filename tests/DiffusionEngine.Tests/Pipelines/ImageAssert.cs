using DiffusionEngine.Pipelines;

namespace DiffusionEngine.Tests.Pipelines;

internal static class ImageAssert
{
    /// <summary>Standard deviation of all channel values, in 0–255 units.</summary>
    public static double PixelStandardDeviation(GeneratedImage image)
    {
        double sum = 0, sumOfSquares = 0;
        foreach (var value in image.Rgb)
        {
            sum += value;
            sumOfSquares += (double)value * value;
        }
        var mean = sum / image.Rgb.Length;
        return Math.Sqrt(Math.Max(0, sumOfSquares / image.Rgb.Length - mean * mean));
    }

    public static int MaxAbsoluteDifference(GeneratedImage expected, GeneratedImage actual)
    {
        Assert.Equal(expected.Rgb.Length, actual.Rgb.Length);
        var max = 0;
        for (var i = 0; i < expected.Rgb.Length; i++) max = Math.Max(max, Math.Abs(expected.Rgb[i] - actual.Rgb[i]));
        return max;
    }

    public static void NotFlat(GeneratedImage image)
    {
        var deviation = PixelStandardDeviation(image);
        Assert.True(deviation > 5, $"pixel standard deviation should be above 5 but was {deviation:F2}");
    }
}
