using System.ComponentModel.DataAnnotations;

namespace DiffusionApi.Options;

/// <summary>The bounded job queue (<c>Diffusion:Queue</c>).</summary>
public sealed class QueueOptions
{
    public const string SectionName = "Diffusion:Queue";

    /// <summary>Jobs that may wait for the worker; one more is answered 503 at once.</summary>
    [Range(1, 100_000)]
    public int Capacity { get; set; } = 64;

    /// <summary>The Retry-After value (seconds) sent with a 503.</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 2;
}
