namespace DiffusionEngine.Pipelines;

/// <summary>
/// What a loaded model folder is, chosen from model_index.json's <c>_class_name</c> and the UNet's inputs (see
/// <c>ModelKindDetector</c>). The kind picks the pipeline, the model's capabilities and its defaults.
/// </summary>
public enum ModelKind
{
    /// <summary>Stable Diffusion 1.x/2.x: one CLIP text encoder, a 4-channel UNet ("sd").</summary>
    StableDiffusion,

    /// <summary>An SD 1.x/2.x inpainting UNet: 9 input channels, latents ‖ mask ‖ masked-image latents ("sd-inpaint").</summary>
    StableDiffusionInpaint,

    /// <summary>SD-Turbo: SD 2.1 distilled for 1–4 steps without guidance ("sd-turbo").</summary>
    SdTurbo,

    /// <summary>SDXL: two text encoders, UNet with <c>text_embeds</c> and <c>time_ids</c> ("sdxl").</summary>
    StableDiffusionXL,

    /// <summary>An SDXL inpainting UNet (9 input channels) ("sdxl-inpaint").</summary>
    StableDiffusionXLInpaint,

    /// <summary>SDXL-Turbo: SDXL distilled for 1–4 steps without guidance ("sdxl-turbo").</summary>
    SdxlTurbo,

    /// <summary>A latent consistency model on SD 1.x/2.x: UNet with <c>timestep_cond</c>, no guidance pass ("lcm").</summary>
    LatentConsistency,

    /// <summary>A latent consistency model on SDXL ("lcm-sdxl").</summary>
    LatentConsistencyXL,
}

/// <summary>Ids and properties of <see cref="ModelKind"/>.</summary>
public static class ModelKinds
{
    /// <summary>The stable id an API shows: "sd", "sd-inpaint", "sd-turbo", "sdxl", "sdxl-inpaint", "sdxl-turbo", "lcm", "lcm-sdxl".</summary>
    public static string Id(this ModelKind kind) => kind switch
    {
        ModelKind.StableDiffusion => "sd",
        ModelKind.StableDiffusionInpaint => "sd-inpaint",
        ModelKind.SdTurbo => "sd-turbo",
        ModelKind.StableDiffusionXL => "sdxl",
        ModelKind.StableDiffusionXLInpaint => "sdxl-inpaint",
        ModelKind.SdxlTurbo => "sdxl-turbo",
        ModelKind.LatentConsistency => "lcm",
        ModelKind.LatentConsistencyXL => "lcm-sdxl",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown model kind"),
    };

    /// <summary>SDXL's two text encoders and added conditioning (text_embeds, time_ids).</summary>
    public static bool IsXL(this ModelKind kind) =>
        kind is ModelKind.StableDiffusionXL or ModelKind.StableDiffusionXLInpaint or ModelKind.SdxlTurbo or ModelKind.LatentConsistencyXL;

    /// <summary>A 9-channel inpainting UNet.</summary>
    public static bool IsInpaintingUNet(this ModelKind kind) => kind is ModelKind.StableDiffusionInpaint or ModelKind.StableDiffusionXLInpaint;

    /// <summary>A latent consistency model: guidance enters through timestep_cond, never through an unconditional pass.</summary>
    public static bool IsLatentConsistency(this ModelKind kind) => kind is ModelKind.LatentConsistency or ModelKind.LatentConsistencyXL;

    /// <summary>An adversarially distilled few-step model (SD-Turbo, SDXL-Turbo).</summary>
    public static bool IsTurbo(this ModelKind kind) => kind is ModelKind.SdTurbo or ModelKind.SdxlTurbo;
}
