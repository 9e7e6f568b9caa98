using DiffusionEngine.Noise;

namespace DiffusionEngine.Schedulers;

/// <summary>
/// The diffusers scheduler contract (<c>set_timesteps</c>, <c>scale_model_input</c>, <c>step</c>,
/// <c>init_noise_sigma</c>, <c>add_noise</c>). An instance belongs to one generation: it keeps per-run state
/// (multistep history, step counters) and is not thread-safe.
/// </summary>
public interface IScheduler
{
    /// <summary>Prepares the timestep schedule for <paramref name="numInferenceSteps"/> denoising steps.</summary>
    void SetTimesteps(int numInferenceSteps);

    /// <summary>The timesteps of the schedule, in the order the UNet sees them.</summary>
    IReadOnlyList<float> Timesteps { get; }

    /// <summary>Standard deviation of the initial noise: latents start as <c>noise · InitNoiseSigma</c>.</summary>
    float InitNoiseSigma { get; }

    /// <summary>Scales the UNet input for step <paramref name="stepIndex"/>, in place.</summary>
    void ScaleModelInput(Span<float> sample, int stepIndex);

    /// <summary>
    /// One reverse-diffusion step, in place: <paramref name="sample"/> (x_t) becomes x_{t-1}.
    /// Stochastic schedulers draw from <paramref name="noise"/>; with none they use zero noise.
    /// </summary>
    void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, INoiseSource? noise = null);

    /// <summary>Forward diffusion: noises a clean <paramref name="sample"/> to the level of step <paramref name="stepIndex"/>, in place.</summary>
    void AddNoise(Span<float> sample, ReadOnlySpan<float> noise, int stepIndex);
}
