namespace DiffusionApi.Jobs;

/// <summary>
/// A job's life: Queued → Running → Succeeded | Failed | Cancelled, and Queued → Cancelled | Failed. A worker that gives a
/// job back (drain) returns it Running → Queued; a worker that takes over an expired lease moves it Running → Running
/// with the next attempt. The three final states never change again.
/// </summary>
public enum JobState
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

public static class JobStates
{
    public static bool IsFinal(this JobState state) => state is JobState.Succeeded or JobState.Failed or JobState.Cancelled;

    /// <summary>The lower-case name the API shows (queued, running, succeeded, failed, cancelled).</summary>
    public static string ApiName(this JobState state) => state switch
    {
        JobState.Queued => "queued",
        JobState.Running => "running",
        JobState.Succeeded => "succeeded",
        JobState.Failed => "failed",
        _ => "cancelled",
    };
}
