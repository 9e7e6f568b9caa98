using System.Diagnostics;

namespace DiffusionEngine.Pipelines;

/// <summary>
/// The engine's tracing source ("DiffusionEngine"): one activity per pipeline stage of a batch (text_encode, vae_encode with an init image, denoise, vae_decode). Hosts subscribe by
/// source name (OpenTelemetry <c>AddSource("DiffusionEngine")</c>). Tags: <c>diffusion.batch_size</c> (images),
/// <c>diffusion.unet_batch_size</c> (2× images with classifier-free guidance), <c>diffusion.steps</c>, <c>diffusion.scheduler</c>.
/// </summary>
public static class DiffusionTelemetry
{
    public const string SourceName = "DiffusionEngine";
    public const string TextEncodeActivity = "diffusion.text_encode";
    public const string VaeEncodeActivity = "diffusion.vae_encode";
    public const string DenoiseActivity = "diffusion.denoise";
    public const string VaeDecodeActivity = "diffusion.vae_decode";

    internal static readonly ActivitySource Source = new(SourceName);
}
