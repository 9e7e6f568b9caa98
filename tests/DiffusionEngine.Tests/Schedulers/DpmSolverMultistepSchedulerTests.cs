using DiffusionEngine.Schedulers;
using static DiffusionEngine.Tests.Schedulers.SchedulerTestFixtures;

namespace DiffusionEngine.Tests.Schedulers;

/// <summary>diffusers test_scheduler_dpm_multi.py values (reference-vectors.md §2.6, §3).</summary>
public class DpmSolverMultistepSchedulerTests
{
    // The upstream base config: order 2, dpmsolver++ midpoint, lower_order_final false, final sigma = sigma_min.
    private static DpmSolverMultistepScheduler Create(params (string, object)[] extra) =>
        new(LinearConfig(1000, [("solver_order", 2), ("algorithm_type", "dpmsolver++"), ("solver_type", "midpoint"),
            ("lower_order_final", false), ("final_sigmas_type", "sigma_min"), .. extra]));

    [Theory]
    [InlineData("epsilon", 0.3301)]
    [InlineData("v_prediction", 0.2251)]
    public void FullLoop_MatchesDiffusers(string predictionType, double expectedMean)
    {
        var scheduler = Create(("prediction_type", predictionType));
        scheduler.SetTimesteps(10);
        var sample = SampleDeter();

        FullLoop(scheduler, sample);

        Assert.InRange(MeanAbs(sample), expectedMean - 1e-3, expectedMean + 1e-3);
    }

    [Fact]
    public void FullLoop_WithKarrasAndVPrediction_MatchesDiffusers()
    {
        var scheduler = Create(("prediction_type", "v_prediction"), ("use_karras_sigmas", true));
        scheduler.SetTimesteps(10);
        var sample = SampleDeter();
        FullLoop(scheduler, sample);
        Assert.InRange(MeanAbs(sample), 0.2096 - 1e-3, 0.2096 + 1e-3);
    }

    [Fact]
    public void FullLoop_FromAddNoiseAtStep5_MatchesDiffusers()
    {
        var scheduler = Create();
        scheduler.SetTimesteps(10);
        var sample = SampleDeter();
        scheduler.AddNoise(sample, NoiseDeter(), 5);

        FullLoop(scheduler, sample, startIndex: 5);

        Assert.InRange(SumAbs(sample), 318.4111 - 1e-2, 318.4111 + 1e-2);
        Assert.InRange(MeanAbs(sample), 0.4146 - 1e-3, 0.4146 + 1e-3);
    }

    [Fact]
    public void FullLoop_NoNoise_MatchesTheTighterRederivedSum()
    {
        var scheduler = Create();
        scheduler.SetTimesteps(10);
        var sample = SampleDeter();
        FullLoop(scheduler, sample);
        Assert.InRange(SumAbs(sample), 253.5514 - 1e-2, 253.5514 + 1e-2);
    }

    [Fact]
    public void FullLoop_WithDynamicThresholding_MatchesDiffusers()
    {
        // Thresholding takes its quantile per image: the fixture is a batch of 4.
        var scheduler = Create(("thresholding", true), ("dynamic_thresholding_ratio", 0.87), ("sample_max_value", 0.5));
        scheduler.BatchSize = 4;
        scheduler.SetTimesteps(10);
        var sample = SampleDeter();

        FullLoop(scheduler, sample);

        Assert.InRange(MeanAbs(sample), 1.1364 - 1e-3, 1.1364 + 1e-3);
    }

    [Fact]
    public void FullLoop_WithLuLambdasAndVPrediction_MatchesDiffusers()
    {
        var scheduler = Create(("prediction_type", "v_prediction"), ("use_lu_lambdas", true));
        scheduler.SetTimesteps(10);
        var sample = SampleDeter();
        FullLoop(scheduler, sample);
        Assert.InRange(MeanAbs(sample), 0.1554 - 1e-3, 0.1554 + 1e-3);
    }

    [Fact]
    public void Linspace_Timesteps_RoundHalfToEven()
    {
        var scheduler = Create();
        scheduler.SetTimesteps(10);
        Assert.Equal([999f, 899, 799, 699, 599, 500, 400, 300, 200, 100], scheduler.Timesteps);
        scheduler.SetTimesteps(20);
        Assert.Equal([999f, 949, 899, 849, 799, 749, 699, 649, 599, 549, 500, 450, 400, 350, 300, 250, 200, 150, 100, 50], scheduler.Timesteps);
    }

    [Fact]
    public void Sigmas_MatchTheDerivedValues()
    {
        var scheduler = Create();
        scheduler.SetTimesteps(10);
        float[] expected = [157.40726f, 60.27141f, 25.52848f, 11.93952f, 6.13521f, 3.44297f, 2.04109f, 1.24016f, 0.72359f, 0.34226f, 0.01000f];
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], scheduler.Sigmas[i], Math.Max(1e-5f, expected[i] * 2e-6f));
    }

    [Fact]
    public void Karras_Timesteps_AreRounded()
    {
        var scheduler = Create(("use_karras_sigmas", true));
        scheduler.SetTimesteps(10);
        Assert.Equal([999f, 937, 864, 775, 663, 511, 301, 102, 18, 0], scheduler.Timesteps);
    }

    [Fact]
    public void Karras_FullLoop_WithZeroLengthLastStep_IsFinite()
    {
        // The last Karras sigma equals sigma_min, so the final step has h = 0 and leaves the sample unchanged.
        var scheduler = Create(("use_karras_sigmas", true));
        scheduler.SetTimesteps(10);
        var sample = SampleDeter();
        FullLoop(scheduler, sample);
        Assert.All(sample, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void SetTimesteps_AsManyAsTrainingSteps_GivesOneTimestepPerStep()
    {
        var scheduler = Create();
        scheduler.SetTimesteps(1000);
        Assert.Equal(1000, scheduler.Timesteps.Count);
        Assert.Equal(1001, scheduler.Sigmas.Count);
    }

    [Fact]
    public void AddNoise_UsesAlphaAndSigmaOfTheStep()
    {
        var scheduler = Create();
        scheduler.SetTimesteps(10);
        var sample = SampleDeter();
        var noise = NoiseDeter();
        var sigma = scheduler.Sigmas[8];
        var alpha = 1f / MathF.Sqrt(sigma * sigma + 1f);
        var expected = new float[sample.Length];
        for (var i = 0; i < sample.Length; i++) expected[i] = alpha * sample[i] + sigma * alpha * noise[i];

        scheduler.AddNoise(sample, noise, 8);

        for (var i = 0; i < sample.Length; i++) Assert.Equal(expected[i], sample[i], 1e-6f);
    }

    [Fact]
    public void Sde_ZeroNoiseIsDeterministic_AndSeedsRepeat()
    {
        float[] Run(DiffusionEngine.Noise.INoiseSource? noise)
        {
            var scheduler = Create(("algorithm_type", "sde-dpmsolver++"));
            scheduler.SetTimesteps(10);
            var sample = SampleDeter();
            FullLoop(scheduler, sample, noise: noise);
            return sample;
        }

        Assert.Equal(Run(null), Run(new ZeroTestNoise()));
        Assert.Equal(Run(new SeededTestNoise(3)), Run(new SeededTestNoise(3)));
        Assert.NotEqual(Run(new SeededTestNoise(3)), Run(new SeededTestNoise(4)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void OtherSolverOrders_RunTheFullLoop(int order)
    {
        var scheduler = Create(("solver_order", order));
        scheduler.SetTimesteps(10);
        var sample = SampleDeter();
        FullLoop(scheduler, sample);
        Assert.All(sample, v => Assert.True(float.IsFinite(v)));
    }
}
