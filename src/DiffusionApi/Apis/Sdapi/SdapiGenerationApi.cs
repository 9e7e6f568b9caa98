using System.Text.Json;
using System.Text.Json.Serialization;
using DiffusionApi.Engine;
using DiffusionApi.Extensions;
using DiffusionApi.Jobs;
using DiffusionApi.Model;
using DiffusionApi.Options;
using DiffusionApi.Storage;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Apis.Sdapi;

/// <summary>A1111's answer to txt2img and img2img: base64 PNGs (each with its infotext), the request, and info as a JSON string.</summary>
public sealed record SdapiImagesResponse(
    [property: JsonPropertyName("images")] IReadOnlyList<string> Images,
    [property: JsonPropertyName("parameters")] JsonElement Parameters,
    [property: JsonPropertyName("info")] string Info);

/// <summary>
/// <c>POST /sdapi/v1/txt2img</c> (and img2img): the A1111 request becomes a job on the same queue, with the same
/// batching, limits, 503 + Retry-After, API keys and rate limits as /v1. The caller waits for it, as in A1111; while it
/// runs, /sdapi/v1/progress reports it and /interrupt stops it.
/// </summary>
public static class SdapiGenerationApi
{
    public static RouteGroupBuilder MapSdapiGeneration(this RouteGroupBuilder group)
    {
        group.MapPost("/txt2img", Txt2Img).WithName("SdapiTxt2Img")
            .WithMetadata(new SdapiErrors())
            .Accepts<Txt2ImgRequest>("application/json")
            .RequireRateLimiting(RateLimitingExtensions.GenerationPolicy)
            .WithSummary("A1111 txt2img: every A1111 field accepted with its default; a feature we do not have is a 422 naming the field")
            .Produces<SdapiImagesResponse>()
            .Produces<SdapiValidationError>(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapPost("/img2img", Img2Img).WithName("SdapiImg2Img")
            .WithMetadata(new SdapiErrors())
            .Accepts<Img2ImgRequest>("application/json")
            .AcceptsImages()
            .RequireRateLimiting(RateLimitingExtensions.GenerationPolicy)
            .WithSummary("A1111 img2img and inpainting: one init image (base64 or data URL), denoising_strength, mask (white repaints), mask_blur, inpainting_fill 0–3, inpaint_full_res with its padding, inpainting_mask_invert; every A1111 field accepted with its default; a feature we do not have is a 422 naming the field")
            .Produces<SdapiImagesResponse>()
            .Produces<SdapiValidationError>(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return group;
    }

    public static async Task<IResult> Img2Img(HttpContext context, JobService jobs, SdapiCheckpoint checkpoint, IImageStore store, SdapiCallerJobs callers,
        IOptions<LimitsOptions> limits, IOptions<PromptsOptions> prompts, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, TimeProvider time)
    {
        var body = await context.Request.ReadFromJsonAsync<Img2ImgRequest>(json.Value.SerializerOptions, context.RequestAborted);
        return await GenerateAsync(body!, context, jobs, checkpoint, store, callers, limits.Value, prompts.Value, json.Value.SerializerOptions, time,
            denoisingStrength: body!.DenoisingStrength ?? SdapiRequestReader.DefaultDenoisingStrength);
    }

    public static async Task<IResult> Txt2Img(HttpContext context, JobService jobs, SdapiCheckpoint checkpoint, IImageStore store, SdapiCallerJobs callers,
        IOptions<LimitsOptions> limits, IOptions<PromptsOptions> prompts, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, TimeProvider time)
    {
        var body = await context.Request.ReadFromJsonAsync<Txt2ImgRequest>(json.Value.SerializerOptions, context.RequestAborted);
        return await GenerateAsync(body!, context, jobs, checkpoint, store, callers, limits.Value, prompts.Value, json.Value.SerializerOptions, time, denoisingStrength: null);
    }

    internal static async Task<IResult> GenerateAsync(SdapiGenerationRequest request, HttpContext context, JobService jobs, SdapiCheckpoint checkpoint, IImageStore store,
        SdapiCallerJobs callers, LimitsOptions limits, PromptsOptions prompts, JsonSerializerOptions json, TimeProvider time, double? denoisingStrength)
    {
        // The model: override_settings.sd_model_checkpoint for this request, else A1111's loaded checkpoint.
        var errors = new SdapiErrors();
        var model = checkpoint.Current;
        if (request.OverrideSettings?.TryGetValue(SdapiOptions.Checkpoint, out var title) == true)
        {
            if (title.ValueKind == JsonValueKind.String && checkpoint.Resolve(title.GetString()!) is { } named) model = named;
            else
            {
                const string field = "override_settings." + SdapiOptions.Checkpoint;
                errors.Add(field, jobs.Models.UnknownModel(field, title.ValueKind == JsonValueKind.String ? title.GetString()! : title.GetRawText(), "GET /sdapi/v1/sd-models"));
                return errors.ToResult();
            }
        }
        var (info, _, unavailable) = await jobs.DescribeModelAsync(model.Name, SdapiOptions.Checkpoint, context.RequestAborted);
        if (info is null) return ProblemResults.Unavailable(context, unavailable!);
        var key = IdempotencyKeyHeader.Read(context, out var keyError);
        if (keyError is not null) errors.AddHeader(IdempotencyKeyHeader.Name, keyError);
        var reading = SdapiRequestReader.Read(request, limits, info, checkpoint.Settings(info), prompts, errors);
        if (reading is null || errors.Any) return errors.ToResult();

        // A1111 shows live previews while it samples (/sdapi/v1/progress current_image): a cheap one after every step.
        var outcome = await jobs.EnqueueAsync(reading.Spec with { Previews = GenerationSpec.EveryStep }, JobKind.Sync, context.RequestAborted, key, JobOwners.Of(context));
        if (outcome.Errors is { } refused)
        {
            foreach (var (field, messages) in refused)
            {
                foreach (var message in messages) errors.Add(field, message);
            }
            return errors.ToResult();
        }
        if (outcome.Job is null) return ProblemResults.Unavailable(context, outcome.UnavailableReason!);
        using var job = outcome.Job;
        context.Response.Headers["X-Job-Id"] = job.Id;
        var started = time.GetUtcNow();
        var timestamp = SdapiInfo.Timestamp(started);
        JobSnapshot final;
        await using (await callers.TrackAsync(RateLimitingExtensions.CallerOf(context), new SdapiCallerJobs.Entry(job.Id, started, timestamp), context.RequestAborted))
        {
            try
            {
                final = await job.WaitForFinishAsync(context.RequestAborted);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                return ProblemResults.Cancelled();
            }
        }

        // A1111 leaves the uploads out of the echoed parameters unless include_init_images asks for them.
        var echoed = request is Img2ImgRequest { IncludeInitImages: not true } img2img ? img2img with { InitImages = null, Mask = null } : request;
        var parameters = JsonSerializer.SerializeToElement(echoed, echoed.GetType(), json);
        // The job's own spec: with an Idempotency-Key seen before, that earlier job (and its seeds) answers.
        var infoText = SdapiInfo.Create(job.Job.Spec, info, reading.BatchSize, timestamp, denoisingStrength);
        // Interrupted or skipped by the caller (/sdapi/v1/interrupt, /skip): A1111 answers with what it has; we have no image yet.
        if (final.State == JobState.Cancelled) return TypedResults.Ok(new SdapiImagesResponse([], parameters, infoText));
        if (final.State != JobState.Succeeded) return ProblemResults.ForUnfinishedJob(context, final);

        // save_images keeps them in the image store (GET /v1/images/{id} until retention removes them).
        var contents = await JobResults.ReadImagesAsync(store, final, keep: reading.SaveImages, context.RequestAborted);
        var images = reading.SendImages ? contents.Select(Convert.ToBase64String).ToArray() : [];
        return TypedResults.Ok(new SdapiImagesResponse(images, parameters, infoText));
    }
}
