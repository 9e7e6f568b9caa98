namespace DiffusionApi.Jobs;

/// <summary>A job's life: Queued → Running → Succeeded | Failed | Cancelled (and Queued → Cancelled).</summary>
public enum JobState
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}
