namespace DiffusionEngine.TinyModel;

/// <summary>Size of the generated architecture.</summary>
public enum TinyModelPreset
{
    /// <summary>Toy scale: writes in well under a second, generates 256×256 in a fraction of a second on a CPU.</summary>
    Tiny,

    /// <summary>
    /// The full Stable Diffusion 1.5 sizes (CLIP ViT-L/14 text encoder, 860M-parameter UNet, VAE) with random
    /// weights: about 4 GB on disk, for performance work only; the images it makes mean nothing.
    /// </summary>
    Sd15,
}
