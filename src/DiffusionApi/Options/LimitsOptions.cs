using System.ComponentModel.DataAnnotations;

namespace DiffusionApi.Options;

/// <summary>What a single request may ask for (<c>Diffusion:Limits</c>); everything is checked before a job is queued.</summary>
public sealed class LimitsOptions : IValidatableObject
{
    public const string SectionName = "Diffusion:Limits";

    [Range(8, 16384)] public int MinWidth { get; set; } = 64;
    [Range(8, 16384)] public int MaxWidth { get; set; } = 1024;
    [Range(8, 16384)] public int MinHeight { get; set; } = 64;
    [Range(8, 16384)] public int MaxHeight { get; set; } = 1024;

    /// <summary>Most pixels (width·height) in one image.</summary>
    [Range(64, 268_435_456)] public long MaxPixels { get; set; } = 1024 * 1024;

    [Range(1, 1000)] public int MinSteps { get; set; } = 1;
    [Range(1, 1000)] public int MaxSteps { get; set; } = 150;

    /// <summary>Most images (OpenAI <c>n</c>) in one request.</summary>
    [Range(1, 64)] public int MaxImages { get; set; } = 4;

    [Range(0, 100)] public double MinGuidance { get; set; }
    [Range(0, 100)] public double MaxGuidance { get; set; } = 30;

    /// <summary>Most characters in a prompt or negative prompt.</summary>
    [Range(1, 100_000)] public int MaxPromptLength { get; set; } = 2000;

    /// <summary>
    /// Most 75-token chunks a prompt or negative prompt may take (A1111 syntax): 8 chunks are 600 tokens. Each chunk adds a
    /// text-encoder row and widens every UNet cross-attention by 77 tokens.
    /// </summary>
    [Range(1, 64)] public int MaxPromptChunks { get; set; } = DiffusionEngine.Text.Prompts.PromptTokenizer.DefaultMaxChunks;

    /// <summary>Largest accepted seed; image i uses seed + i, which must stay within it too.</summary>
    public ulong MaxSeed { get; set; } = ulong.MaxValue;

    /// <summary>
    /// Largest accepted request body in bytes; a larger one is answered 413. Endpoints that take images (an init image
    /// and a mask) allow two images of <see cref="MaxImageBytes"/>, base64-encoded, on top (<see cref="MaxBodyBytesWithImages"/>).
    /// </summary>
    [Range(1024, 64 * 1024 * 1024)] public long MaxRequestBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Largest accepted encoded image (init image or mask) in bytes, after base64 decoding.</summary>
    [Range(1024, 256 * 1024 * 1024)] public long MaxImageBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// Most pixels (width·height) an uploaded image may decode to, read from its header before any pixel is decoded:
    /// a small PNG can declare a huge size (a decompression bomb), and each pixel costs 4 bytes once decoded.
    /// </summary>
    [Range(64, 268_435_456)] public long MaxImagePixels { get; set; } = 4096 * 4096;

    /// <summary>
    /// Longest a job may run on the engine, counted from when its batch starts; past it the job is stopped and its client
    /// answered 504 (a runaway job cannot hold the worker for ever). Generous by default: far above any sane request.
    /// </summary>
    [Range(1, 7 * 24 * 3600)] public int MaxJobSeconds { get; set; } = 1800;

    /// <summary>The body limit of an endpoint that takes images: <see cref="MaxRequestBodyBytes"/> plus an init image and a mask as base64.</summary>
    public long MaxBodyBytesWithImages => MaxRequestBodyBytes + 2 * ((MaxImageBytes + 2) / 3 * 4);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MinWidth > MaxWidth) yield return new($"MinWidth ({MinWidth}) must not exceed MaxWidth ({MaxWidth}).", [nameof(MinWidth)]);
        if (MinHeight > MaxHeight) yield return new($"MinHeight ({MinHeight}) must not exceed MaxHeight ({MaxHeight}).", [nameof(MinHeight)]);
        if (MinSteps > MaxSteps) yield return new($"MinSteps ({MinSteps}) must not exceed MaxSteps ({MaxSteps}).", [nameof(MinSteps)]);
        if (MinGuidance > MaxGuidance) yield return new($"MinGuidance ({MinGuidance}) must not exceed MaxGuidance ({MaxGuidance}).", [nameof(MinGuidance)]);
        foreach (var (name, value) in new[] { (nameof(MinWidth), MinWidth), (nameof(MaxWidth), MaxWidth), (nameof(MinHeight), MinHeight), (nameof(MaxHeight), MaxHeight) })
        {
            if (value % 8 != 0) yield return new($"{name} must be a multiple of 8 but was {value}.", [name]);
        }
    }
}
