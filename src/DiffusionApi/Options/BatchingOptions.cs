using System.ComponentModel.DataAnnotations;

namespace DiffusionApi.Options;

/// <summary>How the worker gathers compatible jobs into one engine batch (<c>Diffusion:Batching</c>).</summary>
public sealed class BatchingOptions
{
    public const string SectionName = "Diffusion:Batching";

    /// <summary>Most images in one engine call.</summary>
    [Range(1, 64)]
    public int MaxBatchSize { get; set; } = 4;

    /// <summary>Longest time, counted from the head job's arrival, the worker waits for compatible jobs.</summary>
    [Range(0, 10_000)]
    public int MaxDelayMs { get; set; } = 20;
}
