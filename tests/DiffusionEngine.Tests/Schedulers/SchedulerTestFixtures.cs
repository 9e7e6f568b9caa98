using DiffusionEngine.Schedulers;

namespace DiffusionEngine.Tests.Schedulers;

/// <summary>
/// diffusers' SchedulerCommonTest fixtures (reference-vectors.md §1): the deterministic sample and noise, the dummy
/// model ε(x, t) = x·t/(t + 1), the |x| metrics and the full denoising loop of the upstream tests.
/// </summary>
internal static class SchedulerTestFixtures
{
    /// <summary>dummy_sample_deter, shape (4, 3, 8, 8) in row-major BCHW: x[b,c,h,w] = (c·256 + h·32 + w·4 + b)/768.</summary>
    public static float[] SampleDeter() => Build(reversed: false);

    /// <summary>dummy_noise_deter: the same construction over the reversed range, (767 − k)/768.</summary>
    public static float[] NoiseDeter() => Build(reversed: true);

    /// <summary>The 1-D variant, shape (4, 3, 8): x[b,c,l] = (c·32 + l·4 + b)/96.</summary>
    public static float[] SampleDeter1D() => Build1D(reversed: false);

    /// <summary>The 1-D noise: (95 − k)/96.</summary>
    public static float[] NoiseDeter1D() => Build1D(reversed: true);

    /// <summary>dummy_model: ε = x·t/(t + 1) in float32, t cast to float32 first.</summary>
    public static void Model(ReadOnlySpan<float> sample, float timestep, Span<float> output)
    {
        for (var i = 0; i < sample.Length; i++) output[i] = sample[i] * timestep / (timestep + 1f);
    }

    /// <summary>result_sum = Σ|x| (accumulated in double).</summary>
    public static double SumAbs(ReadOnlySpan<float> values)
    {
        var sum = 0.0;
        foreach (var v in values) sum += Math.Abs(v);
        return sum;
    }

    /// <summary>result_mean = Σ|x| / n.</summary>
    public static double MeanAbs(ReadOnlySpan<float> values) => SumAbs(values) / values.Length;

    /// <summary>
    /// The upstream full loop: for each step, ε = model(x, t) and x = step(ε, t, x), starting at <paramref name="startIndex"/>.
    /// With <paramref name="scaleInPlace"/> the sample is overwritten by scale_model_input first (the Euler/LMS test quirk).
    /// </summary>
    public static void FullLoop(IScheduler scheduler, float[] sample, bool scaleInPlace = false, int startIndex = 0, DiffusionEngine.Noise.INoiseSource? noise = null)
    {
        var output = new float[sample.Length];
        for (var i = startIndex; i < scheduler.Timesteps.Count; i++)
        {
            if (scaleInPlace) scheduler.ScaleModelInput(sample, i);
            Model(sample, scheduler.Timesteps[i], output);
            scheduler.Step(output, i, sample, noise);
        }
    }

    /// <summary>The linear 0.0001..0.02 base config of the DDIM/PNDM/DPM/UniPC tests, plus extra keys.</summary>
    public static SchedulerConfig LinearConfig(int numTrainTimesteps = 1000, params (string Key, object Value)[] extra)
    {
        var config = SchedulerConfig.Empty
            .With("num_train_timesteps", numTrainTimesteps)
            .With("beta_start", 0.0001)
            .With("beta_end", 0.02)
            .With("beta_schedule", "linear");
        foreach (var (key, value) in extra) config = config.With(key, value);
        return config;
    }

    private static float[] Build(bool reversed)
    {
        const int batch = 4, channels = 3, height = 8, width = 8, total = batch * channels * height * width;
        var values = new float[total];
        for (var b = 0; b < batch; b++)
        for (var c = 0; c < channels; c++)
        for (var h = 0; h < height; h++)
        for (var w = 0; w < width; w++)
        {
            var k = c * 256 + h * 32 + w * 4 + b;
            values[((b * channels + c) * height + h) * width + w] = (reversed ? total - 1 - k : k) / (float)total;
        }

        return values;
    }

    private static float[] Build1D(bool reversed)
    {
        const int batch = 4, channels = 3, length = 8, total = batch * channels * length;
        var values = new float[total];
        for (var b = 0; b < batch; b++)
        for (var c = 0; c < channels; c++)
        for (var l = 0; l < length; l++)
        {
            var k = c * 32 + l * 4 + b;
            values[(b * channels + c) * length + l] = (reversed ? total - 1 - k : k) / (float)total;
        }

        return values;
    }
}
