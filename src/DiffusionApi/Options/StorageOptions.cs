using System.ComponentModel.DataAnnotations;

namespace DiffusionApi.Options;

/// <summary>Where generated images are kept and for how long (<c>Diffusion:Storage</c>).</summary>
public sealed class StorageOptions : IValidatableObject
{
    public const string SectionName = "Diffusion:Storage";

    /// <summary>Images as files in <see cref="Path"/>.</summary>
    public const string FileSystemProvider = "FileSystem";

    /// <summary>Images as objects in an S3 bucket (<see cref="S3"/>), shared by every replica.</summary>
    public const string S3Provider = "S3";

    /// <summary>The image store: <c>FileSystem</c> or <c>S3</c>.</summary>
    public string Provider { get; set; } = FileSystemProvider;

    /// <summary>The S3 store's settings (<c>Diffusion:Storage:S3</c>).</summary>
    public S3StorageOptions S3 { get; set; } = new();

    public bool IsS3 => string.Equals(Provider, S3Provider, StringComparison.OrdinalIgnoreCase);

    /// <summary>Image folder; empty uses <c>&lt;DataDirectory&gt;/images</c>.</summary>
    public string Path { get; set; } = "";

    /// <summary>
    /// With API keys, whether GET /v1/images/{id} answers without a key (and for any key), so that an image URL works in
    /// an <c>&lt;img src&gt;</c> or a chat message. Off by default: then only the key that made an image may fetch it.
    /// Ids are 128 random bits, so a URL cannot be guessed; but whoever holds it can fetch the image until it expires.
    /// </summary>
    public bool PublicImageUrls { get; set; }

    /// <summary>Images older than this are removed.</summary>
    [Range(0.001, 24 * 365)]
    public double RetentionHours { get; set; } = 24;

    /// <summary>How often the retention sweep runs.</summary>
    [Range(1, 24 * 3600)]
    public int CleanupIntervalSeconds { get; set; } = 600;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (SettingChoice.Check($"{SectionName}:{nameof(Provider)}", Provider, nameof(Provider), FileSystemProvider, S3Provider) is { } error) yield return error;
        if (IsS3 && string.IsNullOrWhiteSpace(S3.Bucket))
            yield return new ValidationResult($"{SectionName}:S3:Bucket must name the bucket when {SectionName}:{nameof(Provider)} is S3.", ["S3.Bucket"]);
        var s3Results = new List<ValidationResult>();
        if (IsS3 && !Validator.TryValidateObject(S3, new ValidationContext(S3), s3Results, validateAllProperties: true))
        {
            foreach (var result in s3Results)
                yield return new ValidationResult($"{SectionName}:S3:{string.Join(",", result.MemberNames)}: {result.ErrorMessage}", result.MemberNames);
        }
    }
}
