using System.ComponentModel.DataAnnotations;

namespace DiffusionApi.Options;

/// <summary>
/// Where jobs, their state and their progress live (<c>Diffusion:Scaleout</c>): the backend behind the job queue, job
/// store and progress bus. Only the single-process backend exists so far; a shared one (several replicas serving as
/// one) is chosen here when it arrives.
/// </summary>
public sealed class ScaleoutOptions : IValidatableObject
{
    public const string SectionName = "Diffusion:Scaleout";

    /// <summary>Jobs in this process's memory: the queue, records and events die with it.</summary>
    public const string InMemoryBackend = "InMemory";

    /// <summary>The backend: <c>InMemory</c> (the only one so far).</summary>
    public string Backend { get; set; } = InMemoryBackend;

    /// <summary>
    /// How long a worker's lease on a job lasts without renewal; the worker renews it three times per period. When it
    /// runs out (the worker died or stalled), the job is leased again with the next attempt.
    /// </summary>
    [Range(3, 3600)]
    public int LeaseSeconds { get; set; } = 60;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (SettingChoice.Check($"{SectionName}:{nameof(Backend)}", Backend, nameof(Backend), InMemoryBackend) is { } error) yield return error;
    }
}
