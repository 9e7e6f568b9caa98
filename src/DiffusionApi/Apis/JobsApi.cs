using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using DiffusionApi.Extensions;
using DiffusionApi.Jobs;
using DiffusionApi.Model;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DiffusionApi.Apis;

/// <summary>
/// Async generation: POST /v1/jobs answers 202 + Location at once; GET polls the status (queue position, step progress,
/// image URLs); DELETE cancels; GET …/events streams Server-Sent Events until the job finishes.
/// </summary>
public static class JobsApi
{
    private static readonly TimeSpan EventPollInterval = TimeSpan.FromMilliseconds(250);

    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/jobs").WithTags("Jobs");
        group.MapPost("/", CreateJob).WithName("CreateJob").WithJsonBody(V1FieldAdvice.Table)
            .RequireRateLimiting(RateLimitingExtensions.GenerationPolicy)
            .ProducesProblem(StatusCodes.Status429TooManyRequests).WithSummary("Queue a generation and answer at once (202 + Location)")
            .WithDescription("Same fields as /v1/images/generations but response_format: the images are always stored and returned as URLs, so response_format is a 400.")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/{id}", GetJob).WithName("GetJob").WithSummary("A job's status, queue position, progress and, once done, its image URLs")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{id}", CancelJob).WithName("CancelJob").WithSummary("Cancel a queued or running job")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/{id}/events", StreamEvents).WithName("JobEvents")
            .WithSummary("Server-Sent Events: queued(position) → progress(step, total) → completed / failed / cancelled")
            .Produces<JobStatusResponse>(StatusCodes.Status200OK, "text/event-stream")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static Results<Accepted<JobStatusResponse>, ValidationProblem, ProblemHttpResult> CreateJob(
        ImageGenerationRequest request, HttpContext context, JobService jobs, JobRegistry registry, JobQueue queue)
    {
        if (ProblemResults.WhenResponseFormatIsSent(request.ResponseFormat, context, "stores the images and returns their URLs") is { } unused) return unused;
        // The job outlives this request: it is cancelled by DELETE, never by the client hanging up.
        var cancellation = new CancellationTokenSource();
        var outcome = jobs.Submit(request, storeImages: true, cancellation.Token);
        if (outcome.Job is not { } job)
        {
            cancellation.Dispose();
            return outcome.Errors is not null ? ProblemResults.Invalid(outcome.Errors) : ProblemResults.Unavailable(context, outcome.UnavailableReason!);
        }
        registry.Add(new AsyncJob(job, cancellation));
        context.Response.Headers["X-Job-Id"] = job.Id;
        return TypedResults.Accepted($"/v1/jobs/{job.Id}", Status(job, queue, context));
    }

    public static Results<Ok<JobStatusResponse>, ProblemHttpResult> GetJob(string id, HttpContext context, JobRegistry registry, JobQueue queue) =>
        registry.Find(id) is { } entry
            ? TypedResults.Ok(Status(entry.Job, queue, context))
            : ProblemResults.NotFound("no job has this id (it may have expired)");

    public static Results<Ok<JobStatusResponse>, ProblemHttpResult> CancelJob(string id, HttpContext context, JobRegistry registry, JobQueue queue)
    {
        if (registry.Find(id) is not { } entry) return ProblemResults.NotFound("no job has this id (it may have expired)");
        if (entry.Job.Completion.IsCompleted)
            return TypedResults.Problem($"the job has already {entry.Job.State.ToString().ToLowerInvariant()}", statusCode: StatusCodes.Status409Conflict, title: "Conflict");
        entry.Cancel();
        return TypedResults.Ok(Status(entry.Job, queue, context));
    }

    public static Results<ServerSentEventsResult<JobStatusResponse>, ProblemHttpResult> StreamEvents(string id, HttpContext context, JobRegistry registry, JobQueue queue)
    {
        if (registry.Find(id) is not { } entry) return ProblemResults.NotFound("no job has this id (it may have expired)");
        return TypedResults.ServerSentEvents(Events(entry.Job, queue, context, context.RequestAborted));
    }

    private static async IAsyncEnumerable<SseItem<JobStatusResponse>> Events(
        GenerationJob job, JobQueue queue, HttpContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        JobStatusResponse? last = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            var status = Status(job, queue, context);
            if (last is null || status.Status != last.Status || status.QueuePosition != last.QueuePosition || status.Progress != last.Progress)
            {
                var type = status.Status switch
                {
                    "queued" => "queued",
                    "running" => "progress",
                    "succeeded" => "completed",
                    _ => status.Status, // failed, cancelled
                };
                yield return new SseItem<JobStatusResponse>(status, type);
                last = status;
            }
            if (job.Completion.IsCompleted) yield break;
            // Progress and state changes wake us at once; queue positions are re-read at least this often.
            await job.WaitForChangeAsync(EventPollInterval, cancellationToken);
        }
    }

    private static JobStatusResponse Status(GenerationJob job, JobQueue queue, HttpContext context) =>
        JobStatusResponse.From(job, queue, imageId => ImagesApi.UrlFor(context.Request, imageId));
}
