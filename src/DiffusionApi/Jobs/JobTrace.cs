using System.Diagnostics;

namespace DiffusionApi.Jobs;

/// <summary>What a job's <see cref="JobDescriptor.TraceParent"/> gives the worker: a parent for its spans and log properties.</summary>
public static class JobTrace
{
    /// <summary>The request's trace context, or default (a new root) when the request had none.</summary>
    public static ActivityContext ParentOf(JobDescriptor job) =>
        job.TraceParent is { } traceParent && ActivityContext.TryParse(traceParent, null, isRemote: true, out var context) ? context : default;

    /// <summary>The W3C trace id, or "" when the request had no trace context.</summary>
    public static string TraceIdOf(JobDescriptor job)
    {
        var context = ParentOf(job);
        return context == default ? "" : context.TraceId.ToString();
    }

    /// <summary>Properties every log line about the job carries.</summary>
    public static IReadOnlyList<KeyValuePair<string, object>> LogScope(JobDescriptor job) =>
        [new("JobId", job.Id), new("TraceId", TraceIdOf(job))];
}
