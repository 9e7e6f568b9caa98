using System.ComponentModel.DataAnnotations;

namespace DiffusionApi.Options;

/// <summary>Service-wide settings bound from the <c>Diffusion</c> section.</summary>
public sealed class DiffusionOptions
{
    public const string SectionName = "Diffusion";

    /// <summary>Root for the built-in model and stored images; empty uses <c>DataDirectories.Default</c>.</summary>
    public string DataDirectory { get; set; } = "";

    /// <summary>How long queued and running jobs may take to finish once the service is asked to stop.</summary>
    [Range(1, 3600)]
    public int ShutdownTimeoutSeconds { get; set; } = 30;

    /// <summary>Keys accepted on /v1/* (Authorization: Bearer KEY, or X-Api-Key: KEY); empty = no authentication.</summary>
    public string[] ApiKeys { get; set; } = [];

    /// <summary>The keys in force: <see cref="ApiKeys"/> without blank entries (an empty environment variable is no key).</summary>
    public IEnumerable<string> EffectiveApiKeys => ApiKeys.Where(k => !string.IsNullOrWhiteSpace(k));

    /// <summary>True when /v1 requires a key.</summary>
    public bool RequiresApiKey => EffectiveApiKeys.Any();
}
