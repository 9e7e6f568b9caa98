using System.ComponentModel.DataAnnotations;

namespace DiffusionApi.Options;

/// <summary>Per-caller limit on generation requests (<c>Diffusion:RateLimit</c>): per API key, or per client address without keys.</summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "Diffusion:RateLimit";

    /// <summary>Generation requests a caller may make per minute; 0 turns the limit off.</summary>
    [Range(0, 1_000_000)]
    public int PermitsPerMinute { get; set; }
}
