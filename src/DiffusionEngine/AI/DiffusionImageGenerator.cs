// IImageGenerator is experimental in Microsoft.Extensions.AI (MEAI001): implementing it is the point of this file.
#pragma warning disable MEAI001

using System.Drawing;
using System.Globalization;
using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;
using Microsoft.Extensions.AI;

namespace DiffusionEngine.AI;

/// <summary>
/// Microsoft.Extensions.AI's <see cref="IImageGenerator"/> over loaded <see cref="DiffusionPipeline"/>s, for .NET apps
/// that generate in process (no HTTP). <see cref="ImageGenerationOptions"/> map as follows: <c>ModelId</c> picks a
/// pipeline by its model's name (the first when null), <c>ImageSize</c> the size (the model's default when null),
/// <c>Count</c> the images (image i with seed + i), <c>MediaType</c> the encoding (image/png, image/jpeg or image/webp;
/// PNG when null), <c>ResponseFormat</c> must be null or Data (the images are bytes, never URLs); the rest by
/// <see cref="ImageGenerationOptions.AdditionalProperties"/> with the keys of <see cref="DiffusionImageOptions"/>
/// (steps, guidance_scale, seed, scheduler, negative_prompt, strength). A request with one original image is
/// image-to-image. A value it cannot honour (an unknown model, property or media type) is an
/// <see cref="ArgumentException"/> naming it: nothing is silently ignored. Results are <see cref="DataContent"/> with
/// the media type, in request order.
/// Concurrency: any thread; generations on one pipeline run one at a time. The caller owns the pipelines.
/// </summary>
public sealed class DiffusionImageGenerator : IImageGenerator
{
    private readonly DiffusionPipeline[] _pipelines;
    private readonly SemaphoreSlim[] _gates;
    private readonly ImageGeneratorMetadata _metadata;

    /// <param name="pipelines">The models it serves; the first is the default.</param>
    /// <exception cref="ArgumentException">No pipeline was given.</exception>
    public DiffusionImageGenerator(params DiffusionPipeline[] pipelines)
    {
        if (pipelines.Length == 0) throw new ArgumentException("at least one pipeline is needed", nameof(pipelines));
        _pipelines = pipelines;
        _gates = Array.ConvertAll(pipelines, _ => new SemaphoreSlim(1, 1));
        _metadata = new ImageGeneratorMetadata("DiffusionService", null, pipelines[0].Model.Name);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">An option or the request asks for something the engine does not do.</exception>
    public async Task<ImageGenerationResponse> GenerateAsync(ImageGenerationRequest request, ImageGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (pipeline, gate) = PipelineFor(options?.ModelId);
        var (format, mediaType) = FormatOf(options?.MediaType);
        if (options?.ResponseFormat is { } responseFormat && responseFormat != ImageGenerationResponseFormat.Data)
            throw new ArgumentException($"ResponseFormat must be Data (the images are returned as bytes) but was {responseFormat}", nameof(options));
        var requests = ToEngineRequests(request, options, pipeline.Model);

        await gate.WaitAsync(cancellationToken);
        IReadOnlyList<GeneratedImage> images;
        try
        {
            // The engine blocks its thread for the whole batch: keep it off the caller's.
            images = await Task.Run(() => pipeline.Generate(requests, null, cancellationToken), cancellationToken);
        }
        finally
        {
            gate.Release();
        }
        var contents = new List<AIContent>(images.Count);
        foreach (var image in images) contents.Add(new DataContent(ImageEncoder.Encode(image, format), mediaType));
        return new ImageGenerationResponse(contents) { RawRepresentation = images };
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(ImageGeneratorMetadata)) return _metadata;
        if (serviceType == typeof(DiffusionPipeline)) return _pipelines[0];
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    public void Dispose()
    {
        foreach (var gate in _gates) gate.Dispose();
    }

    private (DiffusionPipeline Pipeline, SemaphoreSlim Gate) PipelineFor(string? modelId)
    {
        if (modelId is null) return (_pipelines[0], _gates[0]);
        for (var i = 0; i < _pipelines.Length; i++)
        {
            if (string.Equals(_pipelines[i].Model.Name, modelId, StringComparison.OrdinalIgnoreCase)) return (_pipelines[i], _gates[i]);
        }
        throw new ArgumentException(
            $"ModelId must be one of {string.Join(", ", _pipelines.Select(p => $"'{p.Model.Name}'"))} but was '{modelId}'", "options");
    }

    private static (ImageFormat Format, string MediaType) FormatOf(string? mediaType) => mediaType?.ToLowerInvariant() switch
    {
        null or "image/png" => (ImageFormat.Png, "image/png"),
        "image/jpeg" or "image/jpg" => (ImageFormat.Jpeg, "image/jpeg"),
        "image/webp" => (ImageFormat.Webp, "image/webp"),
        _ => throw new ArgumentException($"MediaType must be image/png, image/jpeg or image/webp but was '{mediaType}'", "options"),
    };

    private static GenerationRequest[] ToEngineRequests(ImageGenerationRequest request, ImageGenerationOptions? options, ModelInfo model)
    {
        if (string.IsNullOrWhiteSpace(request.Prompt)) throw new ArgumentException("the request's Prompt is required", nameof(request));
        var extra = DiffusionImageOptions.Read(options?.AdditionalProperties);
        var count = options?.Count ?? 1;
        if (count < 1) throw new ArgumentException($"Count must be at least 1 but was {count}", nameof(options));
        var size = options?.ImageSize ?? new Size(model.Defaults.Width, model.Defaults.Height);

        RgbaImage? init = null;
        var originals = request.OriginalImages?.ToList() ?? [];
        if (originals.Count > 1) throw new ArgumentException($"one original image can be edited at a time but the request has {originals.Count}", nameof(request));
        if (originals.Count == 1)
        {
            if (originals[0] is not DataContent { } data || !data.HasTopLevelMediaType("image"))
                throw new ArgumentException("the original image must be a DataContent with an image media type", nameof(request));
            init = ImageDecoder.Decode(data.Data.Span);
        }
        else if (extra.Strength is not null)
        {
            throw new ArgumentException($"{DiffusionImageOptions.Strength} needs an original image (image-to-image)", nameof(options));
        }

        var seed = extra.Seed ?? (ulong)Random.Shared.NextInt64(0, uint.MaxValue);
        var requests = new GenerationRequest[count];
        for (var i = 0; i < count; i++)
        {
            requests[i] = new GenerationRequest
            {
                Prompt = request.Prompt,
                NegativePrompt = extra.NegativePrompt ?? "",
                Width = size.Width,
                Height = size.Height,
                Steps = extra.Steps ?? model.Defaults.Steps,
                GuidanceScale = extra.GuidanceScale ?? model.Defaults.GuidanceScale,
                Seed = seed + (ulong)i,
                Scheduler = extra.Scheduler,
                InitImage = init,
                Strength = extra.Strength,
            };
        }
        return requests;
    }
}

/// <summary>
/// The <see cref="ImageGenerationOptions.AdditionalProperties"/> keys <see cref="DiffusionImageGenerator"/> reads (the
/// /v1 API's field names); any other key is an <see cref="ArgumentException"/>.
/// </summary>
public static class DiffusionImageOptions
{
    /// <summary>Denoising steps (int).</summary>
    public const string Steps = "steps";

    /// <summary>Classifier-free guidance scale (a number).</summary>
    public const string GuidanceScale = "guidance_scale";

    /// <summary>The first image's seed (a whole number ≥ 0); image i uses seed + i. Random when absent.</summary>
    public const string Seed = "seed";

    /// <summary>A scheduler id (euler_a, dpmpp_2m, ddim, …); the model's own when absent.</summary>
    public const string Scheduler = "scheduler";

    /// <summary>What the image should not show (a string).</summary>
    public const string NegativePrompt = "negative_prompt";

    /// <summary>With an original image: how much of it is repainted, 0 &lt; s ≤ 1 (a number).</summary>
    public const string Strength = "strength";

    internal sealed record Values(int? Steps, float? GuidanceScale, ulong? Seed, string? Scheduler, string? NegativePrompt, double? Strength);

    internal static Values Read(AdditionalPropertiesDictionary? properties)
    {
        int? steps = null;
        float? guidance = null;
        ulong? seed = null;
        string? scheduler = null, negative = null;
        double? strength = null;
        foreach (var (key, value) in properties ?? [])
        {
            switch (key)
            {
                case Steps: steps = (int)Number(key, value); break;
                case GuidanceScale: guidance = (float)Number(key, value); break;
                case Seed:
                    var number = Number(key, value);
                    if (number < 0 || number != Math.Floor(number)) throw new ArgumentException($"{Seed} must be a whole number ≥ 0 but was {value}", "options");
                    seed = value is ulong exact ? exact : (ulong)number;
                    break;
                case Scheduler: scheduler = Text(key, value); break;
                case NegativePrompt: negative = Text(key, value); break;
                case Strength: strength = Number(key, value); break;
                default:
                    throw new ArgumentException(
                        $"AdditionalProperties['{key}'] is not an option of this generator; use {Steps}, {GuidanceScale}, {Seed}, {Scheduler}, {NegativePrompt} or {Strength}", "options");
            }
        }
        return new Values(steps, guidance, seed, scheduler, negative, strength);
    }

    private static double Number(string key, object? value) => value switch
    {
        int or long or uint or ulong or short or float or double or decimal => Convert.ToDouble(value, CultureInfo.InvariantCulture),
        _ => throw new ArgumentException($"{key} must be a number but was {value ?? "null"}", "options"),
    };

    private static string Text(string key, object? value) =>
        value as string ?? throw new ArgumentException($"{key} must be a string but was {value ?? "null"}", "options");
}
