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
            .WithJsonBody(V1FieldAdvice.Table).AcceptsImages()
            .RequireRateLimiting(RateLimitingExtensions.GenerationPolicy)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("Generate images (OpenAI Images API)")
            .WithDescription("OpenAI-compatible: prompt, n, size, response_format b64_json|url, model, user, quality (the model's step presets), output_format, output_compression, background opaque|auto, moderation (not applied); extensions: negative_prompt, steps, guidance_scale, seed, scheduler, rng, image and mask (base64 or data URLs) and strength for image-to-image and inpainting. Every image's seed is returned; image i uses seed + i. An unknown field is a 400 naming it and, where one exists, the field to use instead.")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status500InternalServerError)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        // multipart/form-data, read by ImageEditForm (not bound: a JSON body type here would make the JSON check answer 415).
        group.MapPost("/edits", EditImages)
            .WithName("EditImages")
            .AcceptsImages()
            .RequireRateLimiting(RateLimitingExtensions.GenerationPolicy)
            .WithSummary("Edit an image: image-to-image, or inpainting with a mask (OpenAI Images API, multipart/form-data)")
            .WithDescription("OpenAI-compatible multipart/form-data: image (file; PNG, JPEG or WebP), mask (file, the image's size; its fully transparent pixels are the area to edit; without a mask, the image's own transparent pixels are, and an image without any is edited as a whole), prompt, n, size (default and auto: the image's size rounded down to multiples of 8), response_format, model, user, output_format, output_compression, quality, background; extensions: strength (0 < s ≤ 1), steps, guidance_scale, seed, scheduler, negative_prompt, rng, prompt_syntax, emphasis, clip_skip. Limits: Limits:MaxImageBytes and Limits:MaxImagePixels per image. An unknown field is a 400 naming it.")
            .Produces<ImageGenerationResponse>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status500InternalServerError)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    public static async Task<Results<Ok<ImageGenerationResponse>, ValidationProblem, ProblemHttpResult, ServerSentEventsResult<ImageStreamEvent>>> CreateImages(
        ImageGenerationRequest request, HttpContext context, JobService jobs, IImageStore store, IProgressBus bus, TimeProvider time)
    {
        var key = IdempotencyKeyHeader.Read(context, out var keyError);
        if (keyError is not null) return ProblemResults.Invalid(new() { [IdempotencyKeyHeader.Name] = [keyError] });
        if (ProblemResults.WhenPreviewIsSent(request.Preview, context) is { } noPreview) return noPreview;
        var outcome = await jobs.SubmitAsync(request, JobKind.Sync, context.RequestAborted, key, owner: JobOwners.Of(context));
        if (request.Stream == true) return await StreamAsync(outcome, "image_generation", request.Quality, context, store, bus, time);
        return await AnswerAsync(outcome, request.ResponseFormat == "url", context, store, time);
    }

    public static async Task<Results<Ok<ImageGenerationResponse>, ValidationProblem, ProblemHttpResult, ServerSentEventsResult<ImageStreamEvent>>> EditImages(
        HttpContext context, JobService jobs, IImageStore store, IProgressBus bus, TimeProvider time)
    {
        if (!context.Request.HasFormContentType || !context.Request.ContentType!.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            var sent = context.Request.ContentType is { Length: > 0 } type ? $"'{ControlCharacters.Escape(type)}'" : "none";
            return TypedResults.Problem($"Send the body as multipart/form-data with the image as a file part (Content-Type was {sent}).",
                statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported Media Type");
        }
        var key = IdempotencyKeyHeader.Read(context, out var keyError);
        if (keyError is not null) return ProblemResults.Invalid(new() { [IdempotencyKeyHeader.Name] = [keyError] });
        var form = await ImageEditForm.ReadAsync(context.Request, V1FieldAdvice.Table, context.RequestAborted);
        if (form.Request is null) return ProblemResults.Invalid(form.Errors);
        var outcome = await jobs.SubmitAsync(form.Request, JobKind.Sync, context.RequestAborted, key, form.Uploads, JobOwners.Of(context));
        if (form.Request.Stream == true) return await StreamAsync(outcome, "image_edit", form.Request.Quality, context, store, bus, time);
        return await AnswerAsync(outcome, form.Request.ResponseFormat == "url", context, store, time);
    }

    /// <summary>stream: true: Server-Sent Events as OpenAI sends them (<see cref="OpenAiImageStream"/>); errors before the job is queued answer as usual.</summary>
    private static async Task<Results<Ok<ImageGenerationResponse>, ValidationProblem, ProblemHttpResult, ServerSentEventsResult<ImageStreamEvent>>> StreamAsync(
        SubmitOutcome outcome, string prefix, string? quality, HttpContext context, IImageStore store, IProgressBus bus, TimeProvider time)
    {
        if (outcome.Errors is not null) return ProblemResults.Invalid(outcome.Errors);
        if (outcome.Job is null) return ProblemResults.Unavailable(context, outcome.UnavailableReason!);
        var subscription = await bus.SubscribeAsync(outcome.Job.Id, context.RequestAborted);
        context.Response.Headers["X-Job-Id"] = outcome.Job.Id;
        return TypedResults.ServerSentEvents(OpenAiImageStream.EventsAsync(outcome.Job, subscription, prefix, quality, store, time, context.RequestAborted));
    }

    /// <summary>Waits for the submitted job and answers OpenAI's images response (base64 or URLs, each image's seed).</summary>
    private static async Task<Results<Ok<ImageGenerationResponse>, ValidationProblem, ProblemHttpResult, ServerSentEventsResult<ImageStreamEvent>>> AnswerAsync(
        SubmitOutcome outcome, bool wantsUrl, HttpContext context, IImageStore store, TimeProvider time)
    {
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
