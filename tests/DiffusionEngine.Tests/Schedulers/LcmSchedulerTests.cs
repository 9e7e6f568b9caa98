using DiffusionEngine.Schedulers;
using static DiffusionEngine.Tests.Schedulers.SchedulerTestFixtures;

namespace DiffusionEngine.Tests.Schedulers;

/// <summary>
/// diffusers test_scheduler_lcm.py (reference-vectors.md §2.8). The one-step loop is deterministic; the multistep
/// loop re-noises between steps, so it is checked with injected noise.
/// </summary>
public class LcmSchedulerTests
{
    private static LcmScheduler Create(int steps, params (string, object)[] extra)
    {
        var config = SchedulerConfig.Empty
            .With("num_train_timesteps", 1000)
            .With("beta_start", 0.00085)
            .With("beta_end", 0.0120)
            .With("beta_schedule", "scaled_linear")
            .With("prediction_type", "epsilon");
        foreach (var (key, value) in extra) config = config.With(key, value);
        var scheduler = new LcmScheduler(config);
        scheduler.SetTimesteps(steps);
        return scheduler;
    }

    [Fact]
    public void OneStepLoop_MatchesDiffusers()
    {
        var scheduler = Create(1);
        Assert.Equal([999f], scheduler.Timesteps);
        var sample = SampleDeter();

        FullLoop(scheduler, sample);

        Assert.InRange(SumAbs(sample), 18.7097 - 1e-3, 18.7097 + 1e-3);
        Assert.InRange(MeanAbs(sample), 0.0244 - 1e-3, 0.0244 + 1e-3);
    }

    [Fact]
    public void Timesteps_SampleTheDistillationSchedule()
    {
        Assert.Equal([999f, 759, 499, 259], Create(4).Timesteps);
        Assert.Equal([999f, 899, 799, 699, 599, 499, 399, 299, 199, 99], Create(10).Timesteps);
    }

    [Fact]
    public void CustomTimesteps_PreviousTimestepIsTheNextEntry()
    {
        var scheduler = Create(1);
        int[] custom = [100, 87, 50, 1, 0];
        scheduler.SetTimesteps(custom);
        for (var i = 0; i < custom.Length - 1; i++) Assert.Equal(custom[i + 1], scheduler.PreviousTimestep(custom[i]));
        Assert.Equal(-1, scheduler.PreviousTimestep(0));
        Assert.Throws<ArgumentException>(() => scheduler.SetTimesteps([1, 87]));
    }

    [Fact]
    public void Multistep_WithZeroNoise_EqualsTheDeterministicFormula()
    {
        var scheduler = Create(4);
        var sample = SampleDeter();
        var expected = (float[])sample.Clone();
        var output = new float[sample.Length];
        var noise = new ZeroTestNoise();
        var alphasCumprod = AlphasCumprod();

        for (var step = 0; step < scheduler.Timesteps.Count; step++)
        {
            var t = (int)scheduler.Timesteps[step];
            Model(sample, t, output);
            var last = step == scheduler.Timesteps.Count - 1;
            var alpha = alphasCumprod[t];
            var alphaPrev = last ? alpha : alphasCumprod[(int)scheduler.Timesteps[step + 1]];
            var scaled = t * 10.0;
            var cSkip = 0.25 / (scaled * scaled + 0.25);
            var cOut = scaled / Math.Sqrt(scaled * scaled + 0.25);
            for (var i = 0; i < expected.Length; i++)
            {
                var x0 = (expected[i] - Math.Sqrt(1 - alpha) * output[i]) / Math.Sqrt(alpha);
                var denoised = cOut * x0 + cSkip * expected[i];
                expected[i] = (float)(last ? denoised : Math.Sqrt(alphaPrev) * denoised);
            }

            scheduler.Step(output, step, sample, noise);
            for (var i = 0; i < sample.Length; i++) Assert.Equal(expected[i], sample[i], Math.Max(2e-5f, Math.Abs(expected[i]) * 1e-4f));
            sample.CopyTo(expected, 0);
        }

        // Noise is drawn between steps only, not after the last.
        Assert.Equal(scheduler.Timesteps.Count - 1, noise.Calls);
    }

    [Fact]
    public void Multistep_SameSeed_GivesTheSameResult_AndAnotherSeedDoesNot()
    {
        float[] Run(ulong seed)
        {
            var sample = SampleDeter();
            FullLoop(Create(10), sample, noise: new SeededTestNoise(seed));
            return sample;
        }

        Assert.Equal(Run(5), Run(5));
        Assert.NotEqual(Run(5), Run(6));
    }

    [Fact]
    public void MoreStepsThanTheDistillationSchedule_Throw()
    {
        var scheduler = new LcmScheduler(SchedulerConfig.Empty);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => scheduler.SetTimesteps(51));
        Assert.Contains("original_inference_steps (50)", error.Message);
    }

    private static double[] AlphasCumprod()
    {
        // scaled_linear 0.00085..0.012 over 1000 steps, float32 betas, cumprod in double rounded per entry.
        var result = new double[1000];
        var product = 1.0;
        double start = Math.Sqrt(0.00085), end = Math.Sqrt(0.012);
        for (var i = 0; i < 1000; i++)
        {
            var root = (float)(start + i * (end - start) / 999);
            product *= 1f - root * root;
            result[i] = (float)product;
        }

        return result;
    }
}
