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

    /// <summary>Each image of <paramref name="together"/> equals its request run alone on <paramref name="pipeline"/> (up to 1 in 255, float rounding in the models).</summary>
    public static void EachEqualsItsRequestAlone(DiffusionPipeline pipeline, IReadOnlyList<GenerationRequest> batch, IReadOnlyList<GeneratedImage> together)
    {
        Assert.Equal(batch.Count, together.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            var alone = pipeline.Generate([batch[i]])[0];
            Assert.Same(batch[i], together[i].Request);
            Assert.True(MaxAbsoluteDifference(alone, together[i]) <= 1, $"image {i} of the batch differs from the same request run alone");
        }
    }
}
