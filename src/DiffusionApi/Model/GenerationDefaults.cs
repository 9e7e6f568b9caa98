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
/// <see cref="QualityPreset"/> means. Defined once, from the model's own defaults, and used by every surface.
/// </summary>
public sealed record GenerationDefaults(int Width, int Height, int Steps, double GuidanceScale)
{
    /// <summary>
    /// The defaults <paramref name="model"/> reports (<see cref="ModelInfo.Defaults"/>): its native size (the UNet
    /// config's sample_size × 8: 512² for SD 1.5, 1024² for SDXL) and the steps and guidance its kind is made for
    /// (SD 20 at 7.5, SDXL 20 at 5, LCM 4 at 8.5, Turbo 1 at 0), as the CLI uses them.
    /// </summary>
    public static GenerationDefaults For(ModelInfo model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var defaults = model.Defaults;
        return new(defaults.Width, defaults.Height, defaults.Steps, defaults.GuidanceScale);
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
