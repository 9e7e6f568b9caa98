using DiffusionEngine.Schedulers;
using static DiffusionEngine.Tests.Schedulers.SchedulerTestFixtures;

namespace DiffusionEngine.Tests.Schedulers;

/// <summary>diffusers test_scheduler_unipc.py values (reference-vectors.md §2.7), 4-D and 1-D fixtures.</summary>
public class UniPcMultistepSchedulerTests
{
    private static UniPcMultistepScheduler Create(params (string, object)[] extra)
    {
        var scheduler = new UniPcMultistepScheduler(LinearConfig(1000, [("solver_order", 2), ("solver_type", "bh2"), ("final_sigmas_type", "sigma_min"), .. extra]));
        scheduler.SetTimesteps(10);
        return scheduler;
    }

    [Theory]
    [InlineData(false, false, 0.2464)]
    [InlineData(true, false, 0.2925)]
    [InlineData(false, true, 0.1014)]
    [InlineData(true, true, 0.1966)]
    public void FullLoop_MatchesDiffusers(bool karras, bool vPrediction, double expectedMean)
    {
        var scheduler = Create(("use_karras_sigmas", karras), ("prediction_type", vPrediction ? "v_prediction" : "epsilon"));
        var sample = SampleDeter();

        FullLoop(scheduler, sample);

        Assert.InRange(MeanAbs(sample), expectedMean - 1e-3, expectedMean + 1e-3);
    }

    [Fact]
    public void FullLoop_FromAddNoiseAtStep8_MatchesDiffusers()
    {
        var scheduler = Create();
        var sample = SampleDeter();
        scheduler.AddNoise(sample, NoiseDeter(), 8);

        FullLoop(scheduler, sample, startIndex: 8);

        Assert.InRange(SumAbs(sample), 315.5757 - 1e-2, 315.5757 + 1e-2);
        Assert.InRange(MeanAbs(sample), 0.4109 - 1e-3, 0.4109 + 1e-3);
    }

    [Theory]
    [InlineData(false, false, 0.2441)]
    [InlineData(false, true, 0.1014)]
    [InlineData(true, false, 0.2898)]
    [InlineData(true, true, 0.1944)]
    public void FullLoop1D_MatchesDiffusers(bool karras, bool vPrediction, double expectedMean)
    {
        var scheduler = Create(("use_karras_sigmas", karras), ("prediction_type", vPrediction ? "v_prediction" : "epsilon"));
        var sample = SampleDeter1D();

        FullLoop(scheduler, sample);

        Assert.InRange(MeanAbs(sample), expectedMean - 1e-3, expectedMean + 1e-3);
    }

    [Fact]
    public void FullLoop1D_FromAddNoiseAtStep8_MatchesDiffusers()
    {
        var scheduler = Create();
        var sample = SampleDeter1D();
        scheduler.AddNoise(sample, NoiseDeter1D(), 8);

        FullLoop(scheduler, sample, startIndex: 8);

        Assert.InRange(SumAbs(sample), 39.0870 - 1e-2, 39.0870 + 1e-2);
        Assert.InRange(MeanAbs(sample), 0.4072 - 1e-3, 0.4072 + 1e-3);
    }

    [Fact]
    public void Timesteps_MatchDpmSolver()
    {
        var scheduler = Create();
        Assert.Equal([999f, 899, 799, 699, 599, 500, 400, 300, 200, 100], scheduler.Timesteps);
        var karras = Create(("use_karras_sigmas", true));
        Assert.Equal([999f, 937, 864, 775, 663, 511, 301, 102, 18, 0], karras.Timesteps);
        // sigma_min final type with Karras ends at the last Karras sigma.
        Assert.Equal(karras.Sigmas[^2], karras.Sigmas[^1]);
    }

    [Theory]
    [InlineData(1, "bh2")]
    [InlineData(3, "bh2")]
    [InlineData(2, "bh1")]
    public void OtherOrdersAndSolverTypes_RunTheFullLoop(int order, string solverType)
    {
        var scheduler = Create(("solver_order", order), ("solver_type", solverType));
        var sample = SampleDeter();
        FullLoop(scheduler, sample);
        Assert.All(sample, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void DisablingTheCorrectorEverywhere_ChangesTheResult()
    {
        var withCorrector = SampleDeter();
        var without = SampleDeter();
        FullLoop(Create(), withCorrector);
        FullLoop(Create(("disable_corrector", new[] { 0, 1, 2, 3, 4, 5, 6, 7, 8 })), without);
        Assert.NotEqual(MeanAbs(withCorrector), MeanAbs(without));
    }
}
