using DiffusionApi.Options;
using DiffusionEngine.Pipelines;

namespace DiffusionApi.Model;

/// <summary>OpenAI's <c>quality</c>: gpt-image-1's low, medium, high and auto; DALL·E 3's standard (= medium) and hd (= high).</summary>
public enum QualityPreset
{
    Auto,
    Low,
    Medium,
    High,
}

/// <summary>
/// What a request that leaves a field out gets from the loaded model: size, steps, guidance scale, and the steps each
/// <see cref="QualityPreset"/> means. Defined once, per model, so that when a model reports its own defaults (a
/// distilled LCM/Turbo model wants about 4 steps) only <see cref="For"/> changes and every caller follows.
/// </summary>
public sealed record GenerationDefaults(int Width, int Height, int Steps, double GuidanceScale)
{
    /// <summary>The defaults for <paramref name="model"/>: 512×512, 20 steps, guidance 7.5 for every SD 1.x/2.x model today.</summary>
    public static GenerationDefaults For(ModelInfo model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new(512, 512, 20, 7.5);
    }

    /// <summary>
    /// The steps a request without <c>steps</c> runs: low = half the model's default steps, medium and auto = the
    /// default, high = twice the default; each kept within Limits:MinSteps…MaxSteps, so a preset is always a request this
    /// service accepts (an operator's MaxSteps caps "high").
    /// </summary>
    public int StepsFor(QualityPreset quality, LimitsOptions limits)
    {
        var steps = quality switch
        {
            QualityPreset.Low => Math.Max(1, Steps / 2),
            QualityPreset.High => Steps * 2,
            _ => Steps,
        };
        return Math.Clamp(steps, limits.MinSteps, limits.MaxSteps);
    }
}
