using DiffusionEngine.Schedulers;
using DiffusionEngine.Tests.TestSupport;

namespace DiffusionEngine.Tests.Schedulers;

/// <summary>The IScheduler contract, run over every scheduler the factory offers.</summary>
public class SchedulerContractTests
{
    public static TheoryData<string> AllIds()
    {
        var data = new TheoryData<string>();
        foreach (var info in SchedulerFactory.All) data.Add(info.Id);
        return data;
    }

    private static SchedulerConfig Sd15Config() => SchedulerConfig.Load(SharedData.PathOf("sd15", "scheduler_config.json"));

    /// <summary>The SD pipeline's loop: scaled copy into the model, step on the unscaled latents.</summary>
    private static float[] Generate(IScheduler scheduler, int steps, ulong seed, int length = 4 * 8 * 8)
    {
        scheduler.SetTimesteps(steps);
        var latents = new float[length];
        new SeededTestNoise(seed).Fill(latents);
        for (var i = 0; i < latents.Length; i++) latents[i] *= scheduler.InitNoiseSigma;
        var modelInput = new float[length];
        var output = new float[length];
        var stepNoise = new SeededTestNoise(seed + 1);
        for (var step = 0; step < scheduler.Timesteps.Count; step++)
        {
            latents.CopyTo(modelInput, 0);
            scheduler.ScaleModelInput(modelInput, step);
            SchedulerTestFixtures.Model(modelInput, scheduler.Timesteps[step], output);
            scheduler.Step(output, step, latents, stepNoise);
        }

        return latents;
    }

    [SharedDataTheory]
    [MemberData(nameof(AllIds))]
    public void Sd15Config_LoadsIntoEveryScheduler_AndRunsAFullGeneration(string id)
    {
        var scheduler = SchedulerFactory.Create(id, Sd15Config());
        var latents = Generate(scheduler, 20, seed: 1);

        Assert.NotEmpty(scheduler.Timesteps);
        for (var i = 1; i < scheduler.Timesteps.Count; i++) Assert.True(scheduler.Timesteps[i] <= scheduler.Timesteps[i - 1], $"timesteps must not increase: {string.Join(", ", scheduler.Timesteps)}");
        Assert.All(scheduler.Timesteps, t => Assert.InRange(t, 0f, 999f));
        Assert.True(scheduler.InitNoiseSigma >= 1f);
        Assert.All(latents, v => Assert.True(float.IsFinite(v)));
    }

    [SharedDataTheory]
    [InlineData("ddim", 901f)] // leading + steps_offset 1
    [InlineData("pndm", 901f)]
    [InlineData("lcm", 999f)] // LCM's own distillation schedule
    [InlineData("euler", 999f)] // linspace
    [InlineData("euler_a", 999f)]
    [InlineData("lms", 999f)]
    [InlineData("dpmpp_2m", 999f)]
    [InlineData("unipc", 999f)]
    public void Sd15Config_MissingTimestepSpacing_TakesEachClassDefault(string id, float firstTimestep)
    {
        var scheduler = SchedulerFactory.Create(id, Sd15Config());
        scheduler.SetTimesteps(10);
        Assert.Equal(firstTimestep, scheduler.Timesteps[0]);
    }

    [SharedDataTheory]
    [InlineData("ddim")]
    [InlineData("pndm")]
    public void Sd15Config_LeadingSpacingPastTheTrainingRange_FailsUpFrontNamingTheLimit(string id)
    {
        // SD 1.5's steps_offset 1 with leading spacing puts 1000 steps' last timestep at 1000, past alphas_cumprod.
        var scheduler = SchedulerFactory.Create(id, Sd15Config());
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => scheduler.SetTimesteps(1000));
        Assert.Contains("use at most 999 steps", error.Message);

        var latents = Generate(scheduler, 999, seed: 2, length: 16);
        Assert.All(scheduler.Timesteps, t => Assert.InRange(t, 0f, 999f));
        Assert.All(latents, v => Assert.True(float.IsFinite(v)));
    }

    [Theory]
    [MemberData(nameof(AllIds))]
    public void SameInputs_GiveIdenticalResults(string id)
    {
        var first = Generate(SchedulerFactory.Create(id, SchedulerConfig.Empty), 8, seed: 3);
        var second = Generate(SchedulerFactory.Create(id, SchedulerConfig.Empty), 8, seed: 3);
        Assert.Equal(first, second);
    }

    [Theory]
    [MemberData(nameof(AllIds))]
    public void SetTimestepsAgain_ResetsTheRunState(string id)
    {
        var scheduler = SchedulerFactory.Create(id, SchedulerConfig.Empty);
        var first = Generate(scheduler, 8, seed: 3);
        var second = Generate(scheduler, 8, seed: 3);
        Assert.Equal(first, second);
    }

    [Theory]
    [MemberData(nameof(AllIds))]
    public void Misuse_IsReportedWithClearErrors(string id)
    {
        var scheduler = SchedulerFactory.Create(id, SchedulerConfig.Empty);
        var sample = new float[16];
        Assert.Throws<InvalidOperationException>(() => scheduler.Step(sample, 0, sample));
        Assert.Throws<ArgumentOutOfRangeException>(() => scheduler.SetTimesteps(0));

        scheduler.SetTimesteps(8);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => scheduler.Step(sample, scheduler.Timesteps.Count, sample));
        Assert.Contains("stepIndex", error.Message);
        Assert.Throws<ArgumentException>(() => scheduler.Step(new float[8], 0, sample));
    }

    [Theory]
    [MemberData(nameof(AllIds))]
    public void AfterTheFirstStep_StepAndScaleModelInputAllocateNothing(string id)
    {
        const int latentLength = 4 * 64 * 64;
        var scheduler = SchedulerFactory.Create(id, SchedulerConfig.Empty);
        scheduler.SetTimesteps(40);
        var latents = new float[latentLength];
        var modelInput = new float[latentLength];
        var output = new float[latentLength];
        var noise = new SeededTestNoise(9);
        noise.Fill(latents);

        void RunStep(int step)
        {
            latents.CopyTo(modelInput, 0);
            scheduler.ScaleModelInput(modelInput, step);
            SchedulerTestFixtures.Model(modelInput, scheduler.Timesteps[step], output);
            scheduler.Step(output, step, latents, noise);
        }

        RunStep(0);
        var window = 0;
        var allocated = AllocationMeasurement.Fewest(() =>
        {
            // Steps 1–10, then 11–20, then 21–30: each window is 10 steps after the first.
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var step = 1 + 10 * window; step <= 10 * (window + 1); step++) RunStep(step);
            window++;
            return GC.GetAllocatedBytesForCurrentThread() - before;
        });

        // Nothing latent-sized (64 KiB per buffer); in practice zero.
        Assert.True(allocated < 1024, $"{id} allocated {allocated} bytes over 10 steps of a 4x64x64 latent");
    }
}
