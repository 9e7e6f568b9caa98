using System.Globalization;
using DiffusionApi.Extensions;
using DiffusionApi.Jobs;
using DiffusionApi.Model;
using DiffusionApi.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DiffusionApi.Apis;

/// <summary>POST /v1/generate: one image, answered with the image bytes themselves (<c>curl -o out.png</c>).</summary>
public static class GenerationApi
{
    public static IEndpointRouteBuilder MapGenerationApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/generate", Generate)
            .WithTags("Generation")
            .WithName("Generate")
            .WithJsonBody(V1FieldAdvice.Table).AcceptsImages()
            .RequireRateLimiting(RateLimitingExtensions.GenerationPolicy)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("Generate one image and answer with its bytes")
            .WithDescription("Same fields as /v1/images/generations with n = 1 and no response_format (the answer is the image bytes). The image's seed is in X-Seed, the job id in X-Job-Id.")
            .Produces(StatusCodes.Status200OK, contentType: "image/png", additionalContentTypes: ["image/jpeg", "image/webp"])
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status500InternalServerError)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    public static async Task<Results<FileContentHttpResult, ValidationProblem, ProblemHttpResult>> Generate(
        ImageGenerationRequest request, HttpContext context, JobService jobs, IImageStore store)
    {
        if (request.N is { } n && n != 1)
            return ProblemResults.Invalid(new() { ["n"] = [$"n must be 1 for /v1/generate (use /v1/images/generations for more) but was {n}"] });
        if (ProblemResults.WhenResponseFormatIsSent(request.ResponseFormat, context, "answers with the image bytes") is { } unused) return unused;
        if (ProblemResults.WhenStreamIsSent(request.Stream, context) is { } notStreamed) return notStreamed;
        if (ProblemResults.WhenPreviewIsSent(request.Preview, context) is { } noPreview) return noPreview;

        var key = IdempotencyKeyHeader.Read(context, out var keyError);
        if (keyError is not null) return ProblemResults.Invalid(new() { [IdempotencyKeyHeader.Name] = [keyError] });
        var outcome = await jobs.SubmitAsync(request, JobKind.Sync, context.RequestAborted, key, owner: JobOwners.Of(context));
        if (outcome.Errors is not null) return ProblemResults.Invalid(outcome.Errors);
        if (outcome.Job is null) return ProblemResults.Unavailable(context, outcome.UnavailableReason!);
        using var job = outcome.Job;

        context.Response.Headers["X-Job-Id"] = job.Id;
        var (result, problem) = await JobResults.AwaitAsync(context, job);
        if (result is null) return problem!;

        var image = result.Images![0];
        var content = await JobResults.ReadImagesAsync(store, result, keep: false, context.RequestAborted);
        context.Response.Headers["X-Seed"] = image.Seed.ToString(CultureInfo.InvariantCulture);
        return TypedResults.File(content[0], image.ContentType);
    }
}
