namespace DiffusionEngine.TinyModel;

/// <summary>What the generated vae_encoder returns.</summary>
public enum VaeEncoderOutput
{
    /// <summary><c>latent_sample</c> [batch, 4, h, w]: the distribution's mean (diffusers' conversion script exports a latent).</summary>
    LatentSample,

    /// <summary><c>latent_parameters</c> [batch, 8, h, w]: mean ‖ log-variance, as current Optimum exports it.</summary>
    LatentParameters,
}
