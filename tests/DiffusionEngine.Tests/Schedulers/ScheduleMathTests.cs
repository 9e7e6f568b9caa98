using DiffusionEngine.Schedulers;

namespace DiffusionEngine.Tests.Schedulers;

/// <summary>The shared schedule arithmetic against the derived reference values of reference-vectors.md §1.7.</summary>
public class ScheduleMathTests
{
    [Fact]
    public void AlphasCumprod_MatchesTheFloat32Table()
    {
        var linear = ScheduleMath.AlphasCumprod(ScheduleMath.LinearBetas(0.0001, 0.02, 1000));
        Assert.Equal(0.999899983f, linear[0]);
        Assert.Equal(0.895141363f, linear[100]);
        Assert.Equal(4.03583072e-05f, linear[999]);
        Assert.Equal(1.46732964e-05f, ScheduleMath.AlphasCumprod(ScheduleMath.LinearBetas(0.0001, 0.02, 1100))[1099]);

        var scaled = ScheduleMath.AlphasCumprod(ScheduleMath.ScaledLinearBetas(0.00085, 0.012, 1000));
        Assert.Equal(0.999149978f, scaled[0]);
        Assert.Equal(0.00466009509f, scaled[999]);
        var sigmas = ScheduleMath.SigmaTable(scaled);
        Assert.Equal(0.029168f, sigmas[0], 1e-6f);
        Assert.Equal(14.614647f, sigmas[999], 1e-5f);
    }

    [Fact]
    public void Linspace_EndsExactlyAtStop_AndRoundIsHalfToEven()
    {
        var line = ScheduleMath.Linspace(0, 999, 11);
        Assert.Equal(999.0, line[^1]);
        Assert.Equal(500.0, ScheduleMath.Round(line[5])); // 499.5
        Assert.Equal(2.0, ScheduleMath.Round(2.5));
    }

    [Fact]
    public void SigmaToT_InvertsTheTable()
    {
        var sigmas = ScheduleMath.SigmaTable(ScheduleMath.AlphasCumprod(ScheduleMath.LinearBetas(0.0001, 0.02, 1000)));
        var logSigmas = ScheduleMath.LogSigmas(sigmas);
        Assert.Equal(0.0, ScheduleMath.SigmaToT(sigmas[0], logSigmas), 1e-4);
        Assert.Equal(500.0, ScheduleMath.SigmaToT(sigmas[500], logSigmas), 1e-4);
        Assert.Equal(999.0, ScheduleMath.SigmaToT(sigmas[999], logSigmas), 1e-4);
        Assert.Equal(250.5, ScheduleMath.SigmaToT(Math.Exp((logSigmas[250] + (double)logSigmas[251]) / 2), logSigmas), 1e-4);
        // Beyond the table: clamped to its ends.
        Assert.Equal(0.0, ScheduleMath.SigmaToT(1e-6, logSigmas));
        Assert.Equal(999.0, ScheduleMath.SigmaToT(1e6, logSigmas));
    }

    [Fact]
    public void KarrasSigmas_RunFromMaxToMin()
    {
        var sigmas = ScheduleMath.KarrasSigmas(0.1, 10, 5);
        Assert.Equal(10, sigmas[0], 1e-12);
        Assert.Equal(0.1, sigmas[^1], 1e-12);
        for (var i = 1; i < sigmas.Length; i++) Assert.True(sigmas[i] < sigmas[i - 1]);
    }

    [Fact]
    public void DynamicThreshold_ClampsAndScalesPerImage()
    {
        // Image 1: quantile of |x| is 4 (> 1) and clamped to max 3 → x/3 clipped to ±1. Image 2: quantile < 1 → s = 1.
        float[] x0 = [-4, 0, 2, 4, 0.1f, -0.2f, 0.3f, 0.5f];
        ScheduleMath.DynamicThreshold(x0, 2, 1.0, 3.0, new float[8]);
        Assert.Equal([-1f, 0f, 2f / 3f, 1f, 0.1f, -0.2f, 0.3f, 0.5f], x0);

        // sample_max_value below 1: the upper bound wins (torch.clamp), so s = max.
        float[] small = [0.2f, 0.8f];
        ScheduleMath.DynamicThreshold(small, 1, 0.5, 0.5, new float[2]);
        Assert.Equal([0.4f, 1f], small);
    }
}
