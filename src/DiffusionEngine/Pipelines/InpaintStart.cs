namespace DiffusionEngine.Pipelines;

/// <summary>
/// What the masked area's latents start from before they are noised to the strength's level (A1111's inpainting_fill
/// 1–3; its 0, "fill", changes the image instead: <see cref="Imaging.MaskFill"/>). At strength 1 every start is noise.
/// </summary>
public enum InpaintStart
{
    /// <summary>The init image's latents (A1111's 1, "original"; diffusers).</summary>
    Original,

    /// <summary>The image's own seeded noise (A1111's 2, "latent noise": create_random_tensors with the image's seed).</summary>
    LatentNoise,

    /// <summary>Zero latents (A1111's 3, "latent nothing").</summary>
    LatentNothing,
}
