using DiffusionEngine.Schedulers;
using DiffusionEngine.Tests.TestSupport;
using static DiffusionEngine.Tests.Schedulers.SchedulerTestFixtures;

namespace DiffusionEngine.Tests.Schedulers;

/// <summary>diffusers test_scheduler_euler.py values (reference-vectors.md §2.3, §3).</summary>
public class EulerDiscreteSchedulerTests
{
    private static EulerDiscreteScheduler Create(params (string, object)[] extra)
    {
        var scheduler = new EulerDiscreteScheduler(LinearConfig(1100, extra));
        scheduler.SetTimesteps(10);
        return scheduler;
    }

    [Fact]
    public void SetTimesteps_Linspace_GivesFractionalTimestepsAndInterpolatedSigmas()
    {
        var scheduler = Create();
        float[] timesteps = [1099f, 976.8889f, 854.7778f, 732.6667f, 610.5555f, 488.4445f, 366.3333f, 244.2222f, 122.1111f, 0f];
        float[] sigmas = [261.05557f, 81.40568f, 29.11212f, 11.91256f, 5.53582f, 2.86488f, 1.58682f, 0.87408f, 0.40016f, 0.01000f, 0f];
        for (var i = 0; i < timesteps.Length; i++) Assert.Equal(timesteps[i], scheduler.Timesteps[i], 1e-3f);
        for (var i = 0; i < sigmas.Length; i++) Assert.Equal(sigmas[i], scheduler.Sigmas[i], Math.Max(1e-4f, sigmas[i] * 1e-6f));
        Assert.Equal(261.0556f, scheduler.InitNoiseSigma, 1e-3f);
    }

    [Fact]
    public void SetTimesteps_Karras_FollowsTheSigmasWithFractionalTimesteps()
    {
        var scheduler = Create(("use_karras_sigmas", true));
        float[] timesteps = [1099f, 1035.5400f, 961.0532f, 871.1001f, 757.8350f, 605.7829f, 387.2961f, 139.5379f, 23.5367f, 0f];
        for (var i = 0; i < timesteps.Length; i++) Assert.Equal(timesteps[i], scheduler.Timesteps[i], 2e-3f);
        Assert.Equal(0.01000f, scheduler.Sigmas[9], 1e-5f);
        Assert.Equal(0f, scheduler.Sigmas[10]);
    }

    [Theory]
    [InlineData("epsilon", 10.0807, 0.0131)]
    [InlineData("v_prediction", 0.0002, 2.2676e-06)]
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

        Assert.InRange(SumAbs(sample), 124.52299499511719 - 1e-2, 124.52299499511719 + 1e-2);
        Assert.InRange(MeanAbs(sample), 0.16213932633399963 - 1e-3, 0.16213932633399963 + 1e-3);
    }

    [Fact]
    public void FullLoop_FromAddNoiseAtStep8_MatchesDiffusers()
    {
        var scheduler = Create();
        var sample = SampleDeter();
        for (var i = 0; i < sample.Length; i++) sample[i] *= scheduler.InitNoiseSigma;
        scheduler.AddNoise(sample, NoiseDeter(), 8);

        FullLoop(scheduler, sample, scaleInPlace: true, startIndex: 8);

        Assert.InRange(SumAbs(sample), 57062.9297 - 1e-2, 57062.9297 + 1e-2);
        Assert.InRange(MeanAbs(sample), 74.3007 - 1e-3, 74.3007 + 1e-3);
    }

    [SharedDataFact]
    public void Sd15Config_UsesEulersLinspaceDefault()
    {
        var scheduler = new EulerDiscreteScheduler(SchedulerConfig.Load(SharedData.PathOf("sd15", "scheduler_config.json")));
        scheduler.SetTimesteps(10);
        Assert.Equal([999f, 888, 777, 666, 555, 444, 333, 222, 111, 0], scheduler.Timesteps);
        float[] sigmas = [14.61465f, 7.83989f, 4.60918f, 2.91831f, 1.95016f, 1.34493f, 0.93236f, 0.62498f, 0.36866f, 0.02917f, 0f];
        for (var i = 0; i < sigmas.Length; i++) Assert.Equal(sigmas[i], scheduler.Sigmas[i], 1e-4f);
        Assert.Equal(14.61465f, scheduler.InitNoiseSigma, 1e-4f);
    }

    [Fact]
    public void LeadingSpacing_InitNoiseSigmaIsSqrtOfMaxSquaredPlusOne()
    {
        var scheduler = Create(("timestep_spacing", "leading"), ("steps_offset", 1));
        Assert.Equal([991f, 881, 771, 661, 551, 441, 331, 221, 111, 1], scheduler.Timesteps);
        var max = scheduler.Sigmas[0];
        Assert.Equal(MathF.Sqrt(max * max + 1), scheduler.InitNoiseSigma, 1e-3f);
    }

    [Fact]
    public void Churn_WithZeroNoise_IsDeterministic_AndSeedsRepeat()
    {
        float[] Run(DiffusionEngine.Noise.INoiseSource noise)
        {
            var scheduler = new EulerDiscreteScheduler(LinearConfig(1100)) { SChurn = 1.0 };
            scheduler.SetTimesteps(10);
            var sample = SampleDeter();
            FullLoop(scheduler, sample, scaleInPlace: true, noise: noise);
            return sample;
        }

        Assert.Equal(Run(new SeededTestNoise(7)), Run(new SeededTestNoise(7)));
        Assert.NotEqual(Run(new SeededTestNoise(7)), Run(new SeededTestNoise(8)));
    }
}
