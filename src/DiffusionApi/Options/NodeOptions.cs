namespace DiffusionApi.Options;

/// <summary>
/// What this process does (<c>Diffusion:Node</c>): everything (the default), only the HTTP API, or only the worker, so
/// that API pods (CPU, no model in memory) and worker pods (GPU) scale apart and the worker deployment can scale to zero
/// while the API stays up. Roles other than <c>All</c> need a shared job backend: an API node has no worker of its own.
/// </summary>
public sealed class NodeOptions
{
    public const string SectionName = "Diffusion:Node";

    /// <summary>The HTTP API and a worker in one process.</summary>
    public const string AllRole = "All";

    /// <summary>The HTTP API only: jobs go to the shared queue; the model folder is read once at start to validate requests, and no model stays loaded.</summary>
    public const string ApiRole = "Api";

    /// <summary>The worker (it still answers health, metrics and the API, but is meant to sit behind no Service).</summary>
    public const string WorkerRole = "Worker";

    /// <summary><c>All</c>, <c>Api</c> or <c>Worker</c>.</summary>
    public string Role { get; set; } = AllRole;

    public bool IsApiOnly => string.Equals(Role, ApiRole, StringComparison.OrdinalIgnoreCase);

    /// <summary>Null when valid with <paramref name="scaleout"/>, else the error naming the setting.</summary>
    public string? Check(ScaleoutOptions scaleout)
    {
        if (SettingChoice.Check($"{SectionName}:{nameof(Role)}", Role, nameof(Role), AllRole, ApiRole, WorkerRole) is { } error) return error.ErrorMessage;
        if (IsApiOnly && !scaleout.IsRedis)
        {
            return $"{SectionName}:{nameof(Role)}=Api needs {ScaleoutOptions.SectionName}:{nameof(ScaleoutOptions.Backend)}=Redis: "
                + "an API-only node runs no worker, and with the in-memory backend no other process could run its jobs.";
        }
        return null;
    }
}
