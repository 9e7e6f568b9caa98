using DiffusionEngine.Schedulers;
using DiffusionEngine.Tests.TestSupport;
using static DiffusionEngine.Tests.Schedulers.SchedulerTestFixtures;

namespace DiffusionEngine.Tests.Schedulers;

/// <summary>diffusers test_scheduler_lms.py values (reference-vectors.md §2.5).</summary>
public class LmsDiscreteSchedulerTests
{
    private static LmsDiscreteScheduler Create(params (string, object)[] extra)
    {
        var scheduler = new LmsDiscreteScheduler(LinearConfig(1100, extra));
        scheduler.SetTimesteps(10);
        return scheduler;
    }

    [Theory]
    [InlineData("epsilon", 1006.388, 1.31)]
    [InlineData("v_prediction", 0.0017, 2.2676e-06)]
    public void FullLoop_WithScaledSampleQuirk_MatchesDiffusers(string predictionType, double expectedSum, double expectedMean)
    {
        var scheduler = Create(("prediction_type", predictionType));
        var sample = SampleDeter();
        for (var i = 0; i < sample.Length; i++) sample[i] *= scheduler.InitNoiseSigma;

        FullLoop(scheduler, sample, scaleInPlace: true);

        Assert.InRange(SumAbs(sample), expectedSum - 1e-2, expectedSum + 1e-2);
        Assert.InRange(MeanAbs(sample), expectedMean - 1e-3, expectedMean + 1e-3);
    }

    [Fact]
    public void FullLoop_WithKarrasSigmas_MatchesDiffusers()
    {
        var scheduler = Create(("use_karras_sigmas", true));
        var sample = SampleDeter();
        for (var i = 0; i < sample.Length; i++) sample[i] *= scheduler.InitNoiseSigma;

        FullLoop(scheduler, sample, scaleInPlace: true);

        Assert.InRange(SumAbs(sample), 3812.9927 - 2e-2, 3812.9927 + 2e-2);
        Assert.InRange(MeanAbs(sample), 4.9648 - 1e-3, 4.9648 + 1e-3);
    }

    [Fact]
    public void FullLoop_FromAddNoiseAtStep8_UsesOrder4CoefficientsWithOneDerivative()
    {
        var scheduler = Create();
        var sample = SampleDeter();
        for (var i = 0; i < sample.Length; i++) sample[i] *= scheduler.InitNoiseSigma;
        scheduler.AddNoise(sample, NoiseDeter(), 8);

        FullLoop(scheduler, sample, scaleInPlace: true, startIndex: 8);

        Assert.InRange(SumAbs(sample), 27663.6895 - 1e-2, 27663.6895 + 1e-2);
        Assert.InRange(MeanAbs(sample), 36.0204 - 1e-3, 36.0204 + 1e-3);
    }

    [Fact]
    public void Timesteps_AndSigmas_MatchEuler()
    {
        var lms = Create();
        var euler = new EulerDiscreteScheduler(LinearConfig(1100));
        euler.SetTimesteps(10);
        Assert.Equal(euler.Timesteps, lms.Timesteps);
        Assert.Equal(euler.Sigmas, lms.Sigmas);
        Assert.Equal(euler.InitNoiseSigma, lms.InitNoiseSigma);
    }

    [Fact]
    public void Karras_TimestepsAreFractionalAndFollowTheSigmas()
    {
        var lms = Create(("use_karras_sigmas", true));
        var euler = new EulerDiscreteScheduler(LinearConfig(1100, ("use_karras_sigmas", true)));
        euler.SetTimesteps(10);
        Assert.Equal(euler.Timesteps, lms.Timesteps);
        Assert.Equal(1035.5400f, lms.Timesteps[1], 2e-3f);
    }

    [Fact]
    public void FirstOrder_IsAnEulerStep()
    {
        var lms = new LmsDiscreteScheduler(LinearConfig(1100)) { Order = 1 };
        var euler = new EulerDiscreteScheduler(LinearConfig(1100));
        lms.SetTimesteps(10);
        euler.SetTimesteps(10);
        var a = SampleDeter();
        var b = SampleDeter();
        FullLoop(lms, a, scaleInPlace: true);
        FullLoop(euler, b, scaleInPlace: true);
        for (var i = 0; i < a.Length; i++) Assert.Equal(b[i], a[i], Math.Max(1e-6f, Math.Abs(b[i]) * 1e-5f));
    }
}
