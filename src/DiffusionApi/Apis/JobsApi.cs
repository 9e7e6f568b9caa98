using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using DiffusionApi.Extensions;
using DiffusionApi.Jobs;
using DiffusionApi.Model;
using DiffusionApi.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DiffusionApi.Apis;

/// <summary>
/// Async generation: POST /v1/jobs answers 202 + Location at once; GET polls the status (queue position, step progress,
/// image URLs); DELETE cancels; GET …/events streams Server-Sent Events until the job finishes, each with an id that a
/// reconnect sends back as Last-Event-ID to resume after it.
/// </summary>
public static class JobsApi
{
    private static readonly TimeSpan EventPollInterval = TimeSpan.FromMilliseconds(250);

    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/jobs").WithTags("Jobs");
        group.MapPost("/", CreateJob).WithName("CreateJob").WithJsonBody(V1FieldAdvice.Table).AcceptsImages()
            .RequireRateLimiting(RateLimitingExtensions.GenerationPolicy)
            .ProducesProblem(StatusCodes.Status429TooManyRequests).WithSummary("Queue a generation and answer at once (202 + Location)")
            .WithDescription("Same fields as /v1/images/generations but response_format: the images are always stored and returned as URLs, so response_format is a 400.")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/{id}", GetJob).WithName("GetJob").WithSummary("A job's status, queue position, progress and, once done, its image URLs")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status410Gone);
        group.MapDelete("/{id}", CancelJob).WithName("CancelJob").WithSummary("Cancel a queued or running job")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status410Gone);
        group.MapGet("/{id}/events", StreamEvents).WithName("JobEvents")
            .WithSummary("Server-Sent Events: queued(position) → progress(step, total) → completed / failed / cancelled")
            .Produces<JobStatusResponse>(StatusCodes.Status200OK, "text/event-stream")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status410Gone);
        return app;
    }

    public static async Task<Results<Accepted<JobStatusResponse>, ValidationProblem, ProblemHttpResult>> CreateJob(
        ImageGenerationRequest request, HttpContext context, JobService jobs, IJobStore store, IJobQueue queue, IImageStore images)
    {
        if (ProblemResults.WhenResponseFormatIsSent(request.ResponseFormat, context, "stores the images and returns their URLs") is { } unused) return unused;
        if (ProblemResults.WhenStreamIsSent(request.Stream, context) is { } notStreamed) return notStreamed;
        // The job outlives this request: it is cancelled by DELETE, never by the client hanging up.
        var key = IdempotencyKeyHeader.Read(context, out var keyError);
        if (keyError is not null) return ProblemResults.Invalid(new() { [IdempotencyKeyHeader.Name] = [keyError] });
        var outcome = await jobs.SubmitAsync(request, JobKind.Async, CancellationToken.None, key, owner: JobOwners.Of(context));
        if (outcome.Job is not { } job)
            return outcome.Errors is not null ? ProblemResults.Invalid(outcome.Errors) : ProblemResults.Unavailable(context, outcome.UnavailableReason!);
        using (job)
        {
            context.Response.Headers["X-Job-Id"] = job.Id;
            var lookup = await store.GetAsync(job.Id, context.RequestAborted);
            // Just accepted, so it is there, unless an idempotent repeat named a job that expired meanwhile.
            if (lookup.Job is not { } snapshot) return ProblemResults.Gone(Expired);
            return TypedResults.Accepted($"/v1/jobs/{job.Id}", await StatusAsync(snapshot, queue, images, context));
        }
    }

    public static async Task<Results<Ok<JobStatusResponse>, ProblemHttpResult>> GetJob(string id, HttpContext context, IJobStore store, IJobQueue queue, IImageStore images)
    {
        var (found, problem) = await FindAsync(id, store, context);
        return found is null ? problem! : TypedResults.Ok(await StatusAsync(found, queue, images, context));
    }

    public static async Task<Results<Ok<JobStatusResponse>, ProblemHttpResult>> CancelJob(
        string id, HttpContext context, IJobStore store, IJobQueue queue, IImageStore images, JobLifecycle lifecycle)
    {
        var (found, problem) = await FindAsync(id, store, context);
        if (found is null) return problem!;
        if (found.State.IsFinal()) return AlreadyFinished(found.State);
        var outcome = await lifecycle.RequestCancelAsync(id);
        return outcome.Result switch
        {
            CancelResult.Cancelled or CancelResult.Requested => TypedResults.Ok(await StatusAsync(outcome.Job!, queue, images, context)),
            CancelResult.AlreadyFinished => AlreadyFinished(outcome.Job!.State),
            CancelResult.Gone => ProblemResults.Gone(Expired),
            _ => ProblemResults.NotFound(Unknown),
        };
    }

    public static async Task<Results<ServerSentEventsResult<JobStatusResponse>, ProblemHttpResult>> StreamEvents(
        string id, HttpContext context, IJobStore store, IJobQueue queue, IImageStore images, JobWatcher watcher)
    {
        var (found, problem) = await FindAsync(id, store, context);
        if (found is null) return problem!;
        var resumeAfter = long.TryParse(context.Request.Headers["Last-Event-ID"], NumberStyles.None, CultureInfo.InvariantCulture, out var seen) ? seen : (long?)null;
        return TypedResults.ServerSentEvents(Events(id, resumeAfter, watcher, queue, images, context, context.RequestAborted));
    }

    /// <summary>
    /// An event's id grows with the job's progress, so a reconnect with <c>Last-Event-ID</c> can resume: 0 while queued,
    /// 1 + step while running, and <c>total_steps</c> + 2 once final (the total is fixed at admission, so it is larger
    /// than every running id).
    /// </summary>
    private static long EventIdOf(JobSnapshot job) => job.State switch
    {
        JobState.Queued => 0,
        JobState.Running => 1L + job.Step,
        _ => job.TotalSteps + 2L,
    };

    private static async IAsyncEnumerable<SseItem<JobStatusResponse>> Events(
        string id, long? resumeAfter, JobWatcher watcher, IJobQueue queue, IImageStore images, HttpContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        JobStatusResponse? last = null;
        byte[]? preview = null; // the latest live preview not sent yet (jobs created with preview: true)
        // Progress and state changes wake the watch at once; queue positions are re-read at least this often.
        await foreach (var lookup in watcher.WatchAsync(id, EventPollInterval, e => { if (e is { Kind: JobEventKind.Preview, Preview: { } p }) preview = p; }, cancellationToken))
        {
            if (lookup.Job is not { } job) yield break; // expired while streaming: the stream simply ends
            var eventId = EventIdOf(job);
            // Resuming: what the client saw already is not sent again (a queued job's position is: it changes under id 0).
            if (resumeAfter is { } seen && (eventId < seen || (eventId == seen && eventId != 0))) continue;
            var status = await StatusAsync(job, queue, images, context);
            if (preview is not null && job.State == JobState.Running)
            {
                status = status with { Preview = Convert.ToBase64String(preview) };
                preview = null;
            }
            else if (last is not null && status.Status == last.Status && status.QueuePosition == last.QueuePosition && status.Progress == last.Progress) continue;
            var type = status.Status switch
            {
                "queued" => "queued",
                "running" => "progress",
                "succeeded" => "completed",
                _ => status.Status, // failed, cancelled
            };
            yield return new SseItem<JobStatusResponse>(status, type) { EventId = eventId.ToString(CultureInfo.InvariantCulture) };
            last = status;
        }
    }

    private const string Unknown = "no job has this id";
    private const string Expired = "the job has expired: its status and images are no longer kept";

    /// <summary>An async job by id, or the problem to answer: 410 once it expired, 404 for an id that never named one.</summary>
    private static async Task<(JobSnapshot? Job, ProblemHttpResult? Problem)> FindAsync(string id, IJobStore store, HttpContext context)
    {
        var lookup = await store.GetAsync(id, context.RequestAborted);
        return lookup switch
        {
            // A sync job's id is shown in X-Job-Id only; its record is the waiting request's, not a resource.
            // Another API key's job answers as if it did not exist: its id tells that key nothing.
            { Job: { Job.Kind: JobKind.Async } job } when JobOwners.MaySee(context, job.Job.Owner) => (job, null),
            { Job: not null } => (null, ProblemResults.NotFound(Unknown)),
            // An expired job of another key is 404 too: a 410 would confirm that the id once named a job.
            { Presence: JobPresence.Gone } gone when JobOwners.MaySee(context, gone.ExpiredOwner) => (null, ProblemResults.Gone(Expired)),
            _ => (null, ProblemResults.NotFound(Unknown)),
        };
    }

    private static ProblemHttpResult AlreadyFinished(JobState state) =>
        TypedResults.Problem($"the job has already {state.ApiName()}", statusCode: StatusCodes.Status409Conflict, title: "Conflict");

    private static async Task<JobStatusResponse> StatusAsync(JobSnapshot job, IJobQueue queue, IImageStore images, HttpContext context)
    {
        var position = job.State == JobState.Queued ? await queue.PositionOfAsync(job.Job.Id, context.RequestAborted) : null;
        var urls = job is { State: JobState.Succeeded, Images: { } stored } ? await ImagesApi.UrlsForAsync(context.Request, images, stored, context.RequestAborted) : null;
        return JobStatusResponse.From(job, position, urls);
    }
}
