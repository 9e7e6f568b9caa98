using System.ComponentModel.DataAnnotations;

namespace DiffusionApi.Options;

/// <summary>Where generated images are kept and for how long (<c>Diffusion:Storage</c>).</summary>
public sealed class StorageOptions : IValidatableObject
{
    public const string SectionName = "Diffusion:Storage";

    /// <summary>Images as files in <see cref="Path"/>.</summary>
    public const string FileSystemProvider = "FileSystem";

    /// <summary>The image store: <c>FileSystem</c> (the only one so far).</summary>
    public string Provider { get; set; } = FileSystemProvider;

    /// <summary>Image folder; empty uses <c>&lt;DataDirectory&gt;/images</c>.</summary>
    public string Path { get; set; } = "";

    /// <summary>Images older than this are removed.</summary>
    [Range(0.001, 24 * 365)]
    public double RetentionHours { get; set; } = 24;

    /// <summary>How often the retention sweep runs.</summary>
    [Range(1, 24 * 3600)]
    public int CleanupIntervalSeconds { get; set; } = 600;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (SettingChoice.Check($"{SectionName}:{nameof(Provider)}", Provider, nameof(Provider), FileSystemProvider) is { } error) yield return error;
    }
}
