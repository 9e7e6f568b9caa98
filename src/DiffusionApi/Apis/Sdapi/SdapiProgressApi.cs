using System.Text.Json.Serialization;
using DiffusionApi.Extensions;
using DiffusionApi.Jobs;

namespace DiffusionApi.Apis.Sdapi;

/// <summary>A1111's <c>state</c> object in a progress answer.</summary>
public sealed record SdapiState(
    [property: JsonPropertyName("skipped")] bool Skipped,
    [property: JsonPropertyName("interrupted")] bool Interrupted,
    [property: JsonPropertyName("stopping_generation")] bool StoppingGeneration,
    [property: JsonPropertyName("job")] string Job,
    [property: JsonPropertyName("job_count")] int JobCount,
    [property: JsonPropertyName("job_timestamp")] string JobTimestamp,
    [property: JsonPropertyName("job_no")] int JobNo,
    [property: JsonPropertyName("sampling_step")] int SamplingStep,
    [property: JsonPropertyName("sampling_steps")] int SamplingSteps);

/// <summary>A1111's <c>GET /sdapi/v1/progress</c> answer.</summary>
public sealed record SdapiProgressResponse(
    [property: JsonPropertyName("progress")] double Progress,
    [property: JsonPropertyName("eta_relative")] double EtaRelative,
    [property: JsonPropertyName("state")] SdapiState State,
    [property: JsonPropertyName("current_image")] string? CurrentImage,
    [property: JsonPropertyName("textinfo")] string? TextInfo);

/// <summary>
/// Progress, interrupt and skip, each about the caller's own A1111 jobs (<see cref="SdapiCallerJobs"/>): another
/// client's interrupt never stops yours. progress reports the caller's oldest waiting job.
/// </summary>
public static class SdapiProgressApi
{
    public static RouteGroupBuilder MapSdapiProgress(this RouteGroupBuilder group)
    {
        group.MapGet("/progress", Progress).WithName("SdapiProgress")
            .WithSummary("The caller's current A1111 job: progress 0–1, ETA, sampling step; current_image is a cheap latent preview unless skip_current_image");
        group.MapPost("/interrupt", Interrupt).WithName("SdapiInterrupt").WithSummary("Stop the caller's A1111 jobs, queued or running (their requests answer with no images)");
        group.MapPost("/skip", Skip).WithName("SdapiSkip").WithSummary("Stop the caller's running A1111 job; its queued ones go on");
        return group;
    }

    public static async Task<SdapiProgressResponse> Progress(HttpContext context, SdapiCallerJobs callers, IJobStore store, TimeProvider time, bool skip_current_image = false)
    {
        var mine = callers.Of(RateLimitingExtensions.CallerOf(context));
        foreach (var entry in mine)
        {
            if ((await store.GetAsync(entry.JobId, context.RequestAborted)).Job is not { } job || job.State.IsFinal()) continue;
            var running = job.State == JobState.Running && job.TotalSteps > 0;
            var progress = running ? (double)job.Step / job.TotalSteps : 0;
            var elapsed = (time.GetUtcNow() - entry.Started).TotalSeconds;
            var eta = progress > 0 ? elapsed / progress - elapsed : 0;
            return new SdapiProgressResponse(progress, eta,
                new SdapiState(false, job.CancelRequested, false, running ? "txt2img" : "", mine.Count, entry.JobTimestamp, 0, running ? job.Step : 0, job.TotalSteps),
                skip_current_image || !running ? null : entry.CurrentImage, null);
        }
        return new SdapiProgressResponse(0, 0, new SdapiState(false, false, false, "", 0, "0", 0, 0, 0), null, null);
    }

    public static async Task<IResult> Interrupt(HttpContext context, SdapiCallerJobs callers, IJobStore store, JobLifecycle lifecycle)
    {
        await StopAsync(context, callers, store, lifecycle, runningOnly: false);
        return TypedResults.Ok(new Dictionary<string, object>()); // A1111 answers {}
    }

    public static async Task<IResult> Skip(HttpContext context, SdapiCallerJobs callers, IJobStore store, JobLifecycle lifecycle)
    {
        await StopAsync(context, callers, store, lifecycle, runningOnly: true);
        return TypedResults.Ok(new Dictionary<string, object>());
    }

    private static async Task StopAsync(HttpContext context, SdapiCallerJobs callers, IJobStore store, JobLifecycle lifecycle, bool runningOnly)
    {
        foreach (var entry in callers.Of(RateLimitingExtensions.CallerOf(context)))
        {
            if (runningOnly && (await store.GetAsync(entry.JobId, context.RequestAborted)).Job is not { State: JobState.Running }) continue;
            await lifecycle.RequestCancelAsync(entry.JobId);
        }
    }
}
