using DiffusionApi.Extensions;
using DiffusionApi.Jobs;
using DiffusionApi.Model;
using DiffusionApi.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DiffusionApi.Apis;

/// <summary>The OpenAI Images API surface: clients written for it work unchanged.</summary>
public static class OpenAiImagesApi
{
    public static IEndpointRouteBuilder MapOpenAiImagesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/images").WithTags("OpenAI Images");
        group.MapPost("/generations", CreateImages)
            .WithName("CreateImages")
            .WithJsonBody(V1FieldAdvice.Table)
            .RequireRateLimiting(RateLimitingExtensions.GenerationPolicy)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("Generate images (OpenAI Images API)")
            .WithDescription("OpenAI-compatible: prompt, n, size, response_format b64_json|url, model, user, quality (the model's step presets), output_format, output_compression, background opaque|auto, moderation (not applied); extensions: negative_prompt, steps, guidance_scale, seed, scheduler, rng. Every image's seed is returned; image i uses seed + i. An unknown field is a 400 naming it and, where one exists, the field to use instead.")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status500InternalServerError)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    public static async Task<Results<Ok<ImageGenerationResponse>, ValidationProblem, ProblemHttpResult>> CreateImages(
        ImageGenerationRequest request, HttpContext context, JobService jobs, IImageStore store, TimeProvider time)
    {
        var wantsUrl = request.ResponseFormat == "url";
        var key = IdempotencyKeyHeader.Read(context, out var keyError);
        if (keyError is not null) return ProblemResults.Invalid(new() { [IdempotencyKeyHeader.Name] = [keyError] });
        var outcome = await jobs.SubmitAsync(request, JobKind.Sync, context.RequestAborted, key);
        if (outcome.Errors is not null) return ProblemResults.Invalid(outcome.Errors);
        if (outcome.Job is null) return ProblemResults.Unavailable(context, outcome.UnavailableReason!);
        using var job = outcome.Job;

        context.Response.Headers["X-Job-Id"] = job.Id;
        var (result, problem) = await JobResults.AwaitAsync(context, job);
        if (result is null) return problem!;

        var images = result.Images!;
        var data = new ImageData[images.Count];
        if (wantsUrl)
        {
            var urls = await ImagesApi.UrlsForAsync(context.Request, store, images, context.RequestAborted);
            for (var i = 0; i < data.Length; i++) data[i] = new ImageData { Url = urls[i], Seed = images[i].Seed };
        }
        else
        {
            var contents = await JobResults.ReadImagesAsync(store, result, keep: false, context.RequestAborted);
            for (var i = 0; i < data.Length; i++) data[i] = new ImageData { B64Json = Convert.ToBase64String(contents[i]), Seed = images[i].Seed };
        }
        context.Response.Headers["X-Seed"] = job.Job.Spec.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Ok(new ImageGenerationResponse(time.GetUtcNow().ToUnixTimeSeconds(), data));
    }
}
