namespace DiffusionEngine.Pipelines;

/// <summary>
/// The VAE decoder produced NaN or infinite values for an image: the known overflow of SDXL's VAE in float16, which
/// diffusers hides by upcasting the VAE and which would otherwise come back as a black image. The message names the fix.
/// </summary>
public sealed class NonFiniteImageException(string message) : InvalidOperationException(message);
