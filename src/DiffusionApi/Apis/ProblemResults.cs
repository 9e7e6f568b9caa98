using DiffusionApi.Jobs;
using DiffusionApi.Options;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Apis;

/// <summary>The RFC 9457 answers the generation endpoints share; each status has one meaning.</summary>
public static class ProblemResults
{
    /// <summary>503 with Retry-After: the queue is full, the service is draining or the model is not ready.</summary>
    public static ProblemHttpResult Unavailable(HttpContext context, string detail)
    {
        // During shutdown the request's services may already be disposed; then the default applies.
        var seconds = RetryAfterSeconds(context);
        context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(detail, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable");
    }

    private static int RetryAfterSeconds(HttpContext context)
    {
        try
        {
            return context.RequestServices.GetRequiredService<IOptions<QueueOptions>>().Value.RetryAfterSeconds;
        }
        catch (ObjectDisposedException)
        {
            return new QueueOptions().RetryAfterSeconds;
        }
    }

    public static ValidationProblem Invalid(Dictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "The request is invalid", detail: "See errors: every bad field is listed.");

    /// <summary>
    /// A 400 for <c>response_format</c> on an endpoint whose answer has one form (/v1/generate: the bytes; /v1/jobs:
    /// stored images as URLs), so the field is never silently ignored; null when the request does not send it.
    /// </summary>
    public static ValidationProblem? WhenResponseFormatIsSent(string? responseFormat, HttpContext context, string answer) =>
        responseFormat is null
            ? null
            : Invalid(new()
            {
                ["response_format"] = [$"response_format is not used by {context.Request.Path}, which {answer}, but was '{Extensions.ControlCharacters.Escape(responseFormat)}'"],
            });

    /// <summary>A 400 for <c>stream: true</c> on an endpoint that answers once (only the OpenAI image endpoints stream); null otherwise.</summary>
    public static ValidationProblem? WhenStreamIsSent(bool? stream, HttpContext context) =>
        stream == true
            ? Invalid(new()
            {
                ["stream"] = [$"stream is not supported by {context.Request.Path}; POST /v1/images/generations or /v1/images/edits stream partial images, and GET /v1/jobs/{{id}}/events streams a job's progress"],
            })
            : null;

    /// <summary>A 400 for <c>preview: true</c> anywhere but /v1/jobs (only a job's events carry previews); null otherwise.</summary>
    public static ValidationProblem? WhenPreviewIsSent(bool? preview, HttpContext context) =>
        preview == true
            ? Invalid(new()
            {
                ["preview"] = [$"preview is not supported by {context.Request.Path}: previews come with the events of POST /v1/jobs (GET /v1/jobs/{{id}}/events); /v1/images/generations and /v1/images/edits send them as partial_images with stream: true"],
            })
            : null;

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static ProblemHttpResult Gone(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status410Gone, title: "Gone");

    /// <summary>The client of a cancelled job is gone, so 499 is only logged.</summary>
    public static ProblemHttpResult Cancelled() =>
        TypedResults.Problem("the request was cancelled", statusCode: 499, title: "Client closed request");

    /// <summary>Maps a job that finished without images to its answer.</summary>
    public static ProblemHttpResult ForUnfinishedJob(HttpContext context, JobSnapshot job) => job switch
    {
        { State: JobState.Failed, Failure: { Aborted: true } failure } => Unavailable(context, failure.Message),
        { State: JobState.Failed, Failure: { TimedOut: true } failure } => TypedResults.Problem(failure.Message, statusCode: StatusCodes.Status504GatewayTimeout, title: "Job timed out"),
        { State: JobState.Failed, Failure: { } failure } => TypedResults.Problem(failure.Message, statusCode: StatusCodes.Status500InternalServerError, title: "Image generation failed"),
        { State: JobState.Cancelled } => Cancelled(),
        _ => TypedResults.Problem("an unexpected error occurred", statusCode: StatusCodes.Status500InternalServerError),
    };
}
