using System.Diagnostics;

namespace DiffusionApi.Telemetry;

/// <summary>Names of the service's telemetry sources and the spans the worker records.</summary>
public static class ServiceTelemetry
{
    public const string ServiceName = "DiffusionService";

    /// <summary>The engine's own ActivitySource (text encoding, denoising, VAE decode spans).</summary>
    public const string EngineSourceName = "DiffusionEngine";

    public static readonly ActivitySource ActivitySource = new(ServiceName);

    public const string QueueWaitSpan = "diffusion.queue_wait";
    public const string BatchSpan = "diffusion.batch";
    public const string ImageEncodeSpan = "diffusion.image_encode";
    public const string StorageSpan = "diffusion.store";
}
