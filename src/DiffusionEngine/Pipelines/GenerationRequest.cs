namespace DiffusionEngine.Pipelines;

/// <summary>
/// One image to generate. Requests that share <see cref="Width"/>, <see cref="Height"/>, <see cref="Steps"/>
/// and <see cref="Scheduler"/> can run together in one engine batch; prompts, seeds and guidance may differ.
/// </summary>
public sealed record GenerationRequest
{
    /// <summary>The text prompt.</summary>
    public required string Prompt { get; init; }

    /// <summary>The negative prompt: the unconditional half of classifier-free guidance ("" by default).</summary>
    public string NegativePrompt { get; init; } = "";

    /// <summary>Number of denoising steps.</summary>
    public int Steps { get; init; } = 20;

    /// <summary>Classifier-free guidance scale; at or below 1 the unconditional pass is skipped.</summary>
    public float GuidanceScale { get; init; } = 7.5f;

    /// <summary>Image width in pixels, a multiple of 8.</summary>
    public int Width { get; init; } = 512;

    /// <summary>Image height in pixels, a multiple of 8.</summary>
    public int Height { get; init; } = 512;

    /// <summary>Seed of this image's noise stream.</summary>
    public ulong Seed { get; init; }

    /// <summary>Scheduler name (see SchedulerFactory); null uses the model folder's scheduler_config.json.</summary>
    public string? Scheduler { get; init; }

    /// <summary>Which generator draws the noise for <see cref="Seed"/>.</summary>
    public RngKind Rng { get; init; } = RngKind.Cpu;
}
