namespace DiffusionEngine.Pipelines;

/// <summary>
/// What a request to this model should use when it does not say: the model's native size (the UNet config's
/// <c>sample_size</c> × 8), and the steps, guidance scale and scheduler its kind is made for (SD 20 steps at 7.5,
/// SDXL 20 at 5.0 as diffusers' SDXL pipeline, LCM 4 at 8.5 as diffusers' LatentConsistencyModelPipeline,
/// Turbo 1 step at 0: no guidance pass). Per-model defaults live here, not in each caller.
/// </summary>
/// <param name="Width">Native width in pixels.</param>
/// <param name="Height">Native height in pixels.</param>
/// <param name="Steps">Denoising steps.</param>
/// <param name="GuidanceScale">Classifier-free guidance scale (for LCM: the scale its guidance embedding encodes).</param>
/// <param name="Scheduler">The scheduler the model's scheduler_config.json names (a <c>SchedulerFactory</c> id when known).</param>
public sealed record ModelDefaults(int Width, int Height, int Steps, float GuidanceScale, string Scheduler)
{
    /// <summary>diffusers' StableDiffusionImg2ImgPipeline default strength.</summary>
    public const double ImageToImageStrength = 0.8;

    /// <summary>diffusers' StableDiffusionInpaintPipeline default strength: the masked area is repainted from pure noise.</summary>
    public const double InpaintStrength = 1.0;

    /// <summary>The strength a request of <paramref name="mode"/> without one uses (1 for text-to-image, which has no image to keep).</summary>
    public static double StrengthFor(GenerationMode mode) => mode switch
    {
        GenerationMode.ImageToImage => ImageToImageStrength,
        GenerationMode.Inpaint => InpaintStrength,
        _ => 1.0,
    };
}
