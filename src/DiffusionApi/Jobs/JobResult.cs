namespace DiffusionApi.Jobs;

/// <summary>A finished job's images, encoded, in request order.</summary>
public sealed record JobResult(IReadOnlyList<JobImage> Images);

/// <summary>One encoded image, its seed, and its store id when it was stored.</summary>
public sealed record JobImage(ulong Seed, byte[] Content, string ContentType, string? ImageId);
