using DiffusionEngine.Schedulers;
using DiffusionEngine.Tests.TestSupport;
using static DiffusionEngine.Tests.Schedulers.SchedulerTestFixtures;

namespace DiffusionEngine.Tests.Schedulers;

/// <summary>diffusers test_scheduler_pndm.py values (reference-vectors.md §2.2, §3).</summary>
public class PndmSchedulerTests
{
    [Theory]
    [InlineData("epsilon", null, null, 198.1318, 0.2580)]
    [InlineData("v_prediction", null, null, 67.3986, 0.0878)]
    [InlineData("epsilon", true, 0.01, 230.0399, 0.2995)]
    [InlineData("epsilon", false, 0.01, 186.9482, 0.2434)]
    public void FullLoop_PrkThenPlms_MatchesDiffusers(string predictionType, bool? setAlphaToOne, double? betaStart, double expectedSum, double expectedMean)
    {
        var config = LinearConfig(1000, ("prediction_type", predictionType));
        if (setAlphaToOne is not null) config = config.With("set_alpha_to_one", setAlphaToOne.Value);
        if (betaStart is not null) config = config.With("beta_start", betaStart.Value);
        var scheduler = new PndmScheduler(config);
        scheduler.SetTimesteps(10);
        Assert.Equal(12, scheduler.PrkStepCount);
        var sample = SampleDeter();

        FullLoop(scheduler, sample);

        Assert.InRange(SumAbs(sample), expectedSum - 1e-2, expectedSum + 1e-2);
        Assert.InRange(MeanAbs(sample), expectedMean - 1e-3, expectedMean + 1e-3);
    }

    [Fact]
    public void PrkTimesteps_WithStepsOffset_MatchUpstream()
    {
        var scheduler = new PndmScheduler(LinearConfig(1000, ("steps_offset", 1)));
        scheduler.SetTimesteps(10);
        Assert.Equal([901f, 851, 851, 801, 801, 751, 751, 701, 701, 651, 651, 601, 601, 501, 401, 301, 201, 101, 1], scheduler.Timesteps);
    }

    [Fact]
    public void PrkTimesteps_WithoutOffset_SplitIntoPrkAndPlms()
    {
        var scheduler = new PndmScheduler(LinearConfig());
        scheduler.SetTimesteps(10);
        Assert.Equal([900f, 850, 850, 800, 800, 750, 750, 700, 700, 650, 650, 600, 600, 500, 400, 300, 200, 100, 0], scheduler.Timesteps);
    }

    [SharedDataTheory]
    [InlineData(10, new float[] { 901, 801, 801, 701, 601, 501, 401, 301, 201, 101, 1 })]
    public void Sd15Config_SkipsPrkAndRepeatsTheSecondTimestep(int steps, float[] expected)
    {
        var scheduler = new PndmScheduler(SchedulerConfig.Load(SharedData.PathOf("sd15", "scheduler_config.json")));
        scheduler.SetTimesteps(steps);
        Assert.Equal(expected, scheduler.Timesteps);
        Assert.Equal(0, scheduler.PrkStepCount);
    }

    [SharedDataFact]
    public void Sd15Config_With50Steps_Has51Timesteps()
    {
        var scheduler = new PndmScheduler(SchedulerConfig.Load(SharedData.PathOf("sd15", "scheduler_config.json")));
        scheduler.SetTimesteps(50);
        Assert.Equal(51, scheduler.Timesteps.Count);
        Assert.Equal([981f, 961, 961, 941, 921, 901], scheduler.Timesteps.Take(6));
        Assert.Equal([61f, 41, 21, 1], scheduler.Timesteps.TakeLast(4));
    }

    [Fact]
    public void PlmsStep_WithoutPastResiduals_Throws()
    {
        var scheduler = new PndmScheduler(LinearConfig());
        scheduler.SetTimesteps(10);
        var sample = SampleDeter();
        var output = new float[sample.Length];

        var error = Assert.Throws<InvalidOperationException>(() => scheduler.StepPlms(output, 500, sample));
        Assert.Contains("past residuals", error.Message);
        // Entering the schedule at its first PLMS index is the same misuse.
        Assert.Throws<InvalidOperationException>(() => scheduler.Step(output, scheduler.PrkStepCount, sample));
    }

    [Fact]
    public void SetTimesteps_WithAPowerOfThree_Works()
    {
        var scheduler = new PndmScheduler(LinearConfig());
        scheduler.SetTimesteps(27);
        Assert.Equal(27 + 9, scheduler.Timesteps.Count);
    }

    [Fact]
    public void SkipPrk_FullLoop_IsFiniteAndDeterministic()
    {
        var first = SampleDeter();
        var second = SampleDeter();
        foreach (var sample in new[] { first, second })
        {
            var scheduler = new PndmScheduler(LinearConfig(1000, ("skip_prk_steps", true), ("steps_offset", 1)));
            scheduler.SetTimesteps(10);
            FullLoop(scheduler, sample);
        }

        Assert.Equal(first, second);
        Assert.All(first, v => Assert.True(float.IsFinite(v)));
    }
}
