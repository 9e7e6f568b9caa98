using DiffusionApi.Extensions;
using DiffusionApi.Jobs;
using DiffusionApi.Model;
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
        ImageGenerationRequest request, HttpContext context, JobService jobs, TimeProvider time)
    {
        var wantsUrl = request.ResponseFormat == "url";
        var outcome = jobs.Submit(request, storeImages: wantsUrl, context.RequestAborted);
        if (outcome.Errors is not null) return ProblemResults.Invalid(outcome.Errors);
        if (outcome.Job is not { } job) return ProblemResults.Unavailable(context, outcome.UnavailableReason!);

        context.Response.Headers["X-Job-Id"] = job.Id;
        var (result, error) = await ProblemResults.AwaitAsync(job, context.RequestAborted);
        if (result is null) return ProblemResults.ForFailedJob(context, error!);

        var data = new ImageData[result.Images.Count];
        for (var i = 0; i < data.Length; i++)
        {
            var image = result.Images[i];
            data[i] = wantsUrl
                ? new ImageData { Url = ImagesApi.UrlFor(context.Request, image.ImageId!), Seed = image.Seed }
                : new ImageData { B64Json = Convert.ToBase64String(image.Content), Seed = image.Seed };
        }
        context.Response.Headers["X-Seed"] = job.Spec.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Ok(new ImageGenerationResponse(time.GetUtcNow().ToUnixTimeSeconds(), data));
    }
}
