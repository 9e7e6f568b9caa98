namespace DiffusionApi.Jobs.InMemory;

/// <summary>
/// How long finished job records are kept: <paramref name="Async"/> jobs as long as their images
/// (Diffusion:Storage:RetentionHours), then answered Gone for as long again; <paramref name="Sync"/> jobs only until their
/// waiting request has read them.
/// </summary>
public sealed record JobRetention(TimeSpan Async, TimeSpan Sync)
{
    /// <summary>Ample for a waiting request to read its finished job; the record is of no use to anyone after that.</summary>
    public static readonly TimeSpan DefaultSync = TimeSpan.FromMinutes(1);

    public TimeSpan For(JobKind kind) => kind == JobKind.Async ? Async : Sync;
}
