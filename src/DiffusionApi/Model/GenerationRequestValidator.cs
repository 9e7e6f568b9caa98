using System.Globalization;
using DiffusionApi.Extensions;
using DiffusionApi.Options;
using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Schedulers;
using DiffusionEngine.Text.Prompts;

namespace DiffusionApi.Model;

/// <summary>
/// Checks every field of an <see cref="ImageGenerationRequest"/> against <see cref="LimitsOptions"/> and the loaded
/// model before anything is queued, and collects every problem (keyed by the JSON field name) rather than stopping
/// at the first. Messages name the value: "width must be a multiple of 8 but was 500". Prompts are read as the engine
/// will read them (the model's <see cref="PromptReader"/>), so a prompt past Limits:MaxPromptChunks, a weight that is
/// not a number, or a clip skip the model's export cannot honour is a 400 here, never a failed job.
/// </summary>
public static class GenerationRequestValidator
{
    /// <summary>
    /// Largest seed drawn for a request that names none: seeds are drawn in [0, 2^32) as A1111 and ComfyUI draw them,
    /// so every seed the service chooses is exact in a JavaScript number (53 bits). Explicit seeds may go up to MaxSeed.
    /// </summary>
    public const ulong MaxRandomSeed = uint.MaxValue;

    /// <summary>OpenAI's bound on partial_images.</summary>
    public const int MaxPartialImages = 3;

    /// <param name="request">The request as the client sent it.</param>
    /// <param name="limits">The configured limits.</param>
    /// <param name="model">The loaded model (with its <see cref="ModelInfo.Prompts"/>).</param>
    /// <param name="randomSeed">Draws a seed when the request has none.</param>
    /// <param name="errors">Every problem, keyed by the field's JSON name; empty when the result is not null.</param>
    /// <param name="prompts">The configured prompt defaults (Diffusion:Prompts); null: a1111 syntax, original emphasis.</param>
    /// <param name="uploads">Images uploaded as files (multipart); null: the request's <c>image</c>/<c>mask</c> strings, masks read by luminance.</param>
    public static GenerationSpec? Validate(
        ImageGenerationRequest request,
        LimitsOptions limits,
        ModelInfo model,
        Func<ulong> randomSeed,
        out Dictionary<string, string[]> errors,
        PromptsOptions? prompts = null,
        ImageUploads? uploads = null)
    {
        var defaults = GenerationDefaults.For(model);
        var problems = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string field, string message)
        {
            if (!problems.TryGetValue(field, out var list)) problems[field] = list = [];
            list.Add(message);
        }

        // prompt, negative_prompt
        if (string.IsNullOrWhiteSpace(request.Prompt)) Add("prompt", "prompt is required and must not be empty");
        else if (request.Prompt.Length > limits.MaxPromptLength)
            Add("prompt", $"prompt must be at most {limits.MaxPromptLength} characters but was {request.Prompt.Length}");
        var negative = request.NegativePrompt ?? "";
        if (negative.Length > limits.MaxPromptLength)
            Add("negative_prompt", $"negative_prompt must be at most {limits.MaxPromptLength} characters but was {negative.Length}");

        // prompt_syntax, emphasis, clip_skip; then both texts as the model reads them (chunks, weights).
        var reader = model.Prompts ?? throw new InvalidOperationException("the model has no prompt reader (ModelInfo.Prompts)");
        var syntax = prompts?.DefaultSyntax ?? PromptSyntax.A1111;
        var syntaxKnown = request.PromptSyntax is null || PromptSyntaxNames.TryParse(request.PromptSyntax, out syntax);
        if (!syntaxKnown)
            Add("prompt_syntax", $"prompt_syntax must be {string.Join(" or ", PromptSyntaxNames.All)} but was '{ControlCharacters.Escape(request.PromptSyntax!)}'");
        var emphasis = prompts?.DefaultEmphasis ?? EmphasisMode.Original;
        if (request.Emphasis is not null && !EmphasisModeNames.TryParse(request.Emphasis, out emphasis))
            Add("emphasis", $"emphasis must be one of {string.Join(", ", EmphasisModeNames.All)} but was '{ControlCharacters.Escape(request.Emphasis)}'");
        var clipSkip = request.ClipSkip ?? 1;
        if (reader.ClipSkipProblem(clipSkip) is { } clipSkipProblem) Add("clip_skip", clipSkipProblem);
        if (syntaxKnown)
        {
            if (!problems.ContainsKey("prompt")) CheckPromptChunks("prompt", request.Prompt!, reader, syntax, limits, Add);
            if (!problems.ContainsKey("negative_prompt")) CheckPromptChunks("negative_prompt", negative, reader, syntax, limits, Add);
        }

        // n
        var count = request.N ?? 1;
        if (count < 1 || count > limits.MaxImages) Add("n", $"n must be between 1 and {limits.MaxImages} but was {count}");

        // image, mask, strength
        var images = ReadImages(request, uploads, limits, Add);

        // size: with an image, its own size by default
        int width = defaults.Width, height = defaults.Height;
        if (request.Size is null && images.Init is not null) (width, height) = ImageInputs.DefaultSize(images.Init, limits);
        if (request.Size is not null && !TryParseSize(request.Size, out width, out height))
        {
            Add("size", $"size must be WIDTHxHEIGHT, e.g. 512x512, but was '{ControlCharacters.Escape(request.Size)}'");
        }
        else
        {
            // A size taken from the image says so: the client sent none.
            Action<string, string> addSize = request.Size is null && images.Init is not null
                ? (field, message) => Add(field, $"{message} (the size of image {images.Init.Width}x{images.Init.Height} rounded down to multiples of 8, used as no size was sent; send size)")
                : Add;
            CheckDimension("width", width, limits.MinWidth, limits.MaxWidth, addSize);
            CheckDimension("height", height, limits.MinHeight, limits.MaxHeight, addSize);
            var pixels = (long)width * height;
            if (pixels > limits.MaxPixels) addSize("size", $"size must have at most {limits.MaxPixels} pixels but {width}x{height} has {pixels}");
        }

        // quality (OpenAI) picks one of the model's step presets; steps, when given, is the exact count, so not both.
        var quality = QualityPreset.Auto;
        if (request.Quality is not null && !TryParseQuality(request.Quality, out quality))
            Add("quality", $"quality must be low, medium, high, auto, standard or hd but was '{ControlCharacters.Escape(request.Quality)}'");
        else if (request.Steps is not null && quality != QualityPreset.Auto)
            Add("quality", $"quality '{request.Quality}' chooses the steps ({defaults.StepsFor(quality, limits)} for this model); send quality or steps, not both");

        // steps, guidance_scale
        var steps = request.Steps ?? defaults.StepsFor(quality, limits);
        if (steps < limits.MinSteps || steps > limits.MaxSteps)
            Add("steps", $"steps must be between {limits.MinSteps} and {limits.MaxSteps} but was {steps}");
        var guidance = request.GuidanceScale ?? defaults.GuidanceScale;
        if (!double.IsFinite(guidance) || guidance < limits.MinGuidance || guidance > limits.MaxGuidance)
            Add("guidance_scale", $"guidance_scale must be between {Format(limits.MinGuidance)} and {Format(limits.MaxGuidance)} but was {Format(guidance)}");

        // seed: image i uses seed + i, so the last image's seed must stay within the limit too.
        var extraSeeds = (ulong)Math.Clamp(count - 1, 0, limits.MaxImages - 1);
        var maxFirstSeed = limits.MaxSeed - Math.Min(limits.MaxSeed, extraSeeds);
        ulong seed;
        if (request.Seed is { } given)
        {
            seed = given;
            if (given > maxFirstSeed)
                Add("seed", extraSeeds > 0
                    ? $"seed must be at most {maxFirstSeed} when n is {count} (image i uses seed + i) but was {given}"
                    : $"seed must be at most {limits.MaxSeed} but was {given}");
        }
        else
        {
            // Every image's seed (seed + i) stays below 2^32 and within MaxSeed.
            var highest = Math.Min(maxFirstSeed, MaxRandomSeed - extraSeeds);
            seed = randomSeed() % (highest + 1);
        }

        // scheduler
        string? scheduler = null;
        if (request.Scheduler is not null)
        {
            if (SchedulerFactory.TryResolve(request.Scheduler, out var info)) scheduler = info.Id;
            else Add("scheduler", $"scheduler must be one of {string.Join(", ", SchedulerFactory.All.Select(s => s.Id))} but was '{ControlCharacters.Escape(request.Scheduler)}'");
        }

        // output_format, response_format, rng, model
        var outputFormat = ImageFormat.Png;
        var formatKnown = request.OutputFormat is null || ImageFormats.TryParse(request.OutputFormat, out outputFormat);
        if (!formatKnown)
            Add("output_format", $"output_format must be png, jpeg or webp but was '{ControlCharacters.Escape(request.OutputFormat!)}'");

        // output_compression, background, moderation (OpenAI)
        var outputQuality = ImageEncoder.DefaultQuality;
        if (request.OutputCompression is { } compression)
        {
            outputQuality = compression;
            if (compression is < 0 or > 100) Add("output_compression", $"output_compression must be between 0 and 100 but was {compression}");
            else if (formatKnown && outputFormat == ImageFormat.Png) Add("output_compression", "output_compression applies to jpeg and webp; png is lossless (set output_format, or leave output_compression out)");
        }
        switch (request.Background)
        {
            case null or "auto" or "opaque": break;
            case "transparent": Add("background", "background 'transparent' is not supported: Stable Diffusion draws opaque images; use opaque or auto"); break;
            default: Add("background", $"background must be opaque or auto but was '{ControlCharacters.Escape(request.Background)}'"); break;
        }
        if (request.Moderation is not (null or "auto" or "low"))
            Add("moderation", $"moderation must be auto or low but was '{ControlCharacters.Escape(request.Moderation)}'");
        var responseFormat = ResponseFormat.B64Json;
        switch (request.ResponseFormat)
        {
            case null or "b64_json": break;
            case "url": responseFormat = ResponseFormat.Url; break;
            default: Add("response_format", $"response_format must be b64_json or url but was '{ControlCharacters.Escape(request.ResponseFormat)}'"); break;
        }
        // stream, partial_images (OpenAI's streaming; the endpoints that cannot stream refuse stream themselves)
        var previews = 0;
        if (request.PartialImages is { } partials)
        {
            if (partials is < 0 or > MaxPartialImages) Add("partial_images", $"partial_images must be between 0 and {MaxPartialImages} but was {partials}");
            else if (request.Stream != true) Add("partial_images", "partial_images needs stream: true (partial images are only sent on a stream)");
            else previews = partials;
        }
        if (request.Preview == true) previews = GenerationSpec.EveryStep;
        if (request.Stream == true && responseFormat == ResponseFormat.Url)
            Add("response_format", "response_format url cannot be streamed: a stream carries the images as b64_json");
        var rng = RngKind.Cpu;
        switch (request.Rng)
        {
            case null or "cpu": break;
            case "gpu": rng = RngKind.Gpu; break;
            default: Add("rng", $"rng must be cpu or gpu but was '{ControlCharacters.Escape(request.Rng)}'"); break;
        }
        if (!string.IsNullOrEmpty(request.Model) && !string.Equals(request.Model, model.Name, StringComparison.OrdinalIgnoreCase))
            Add("model", $"model must be '{model.Name}' (see GET /v1/models) but was '{ControlCharacters.Escape(request.Model)}'");

        errors = problems.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal);
        if (errors.Count > 0) return null;
        var spec = new GenerationSpec(model.Name, request.Prompt!, negative, width, height, steps, (float)guidance, seed, count,
            scheduler, outputFormat, rng, responseFormat, request.User, outputQuality, syntax, emphasis, clipSkip,
            InitImage: images.InitBytes is { } initBytes ? new EncodedImage(initBytes, images.Init) : null,
            Mask: images.MaskBytes is { } maskBytes ? new EncodedImage(maskBytes, images.Mask) : null,
            Strength: request.Strength,
            MaskConvention: images.Convention,
            Previews: previews);
        errors = CheckEngineKey(spec, model);
        return errors.Count > 0 ? null : spec;
    }

    /// <summary>
    /// Whether the engine can batch <paramref name="spec"/> on <paramref name="model"/> (<see cref="BatchKey.For"/>: the
    /// mode the model supports, a strength that leaves a step to run, a step count its scheduler can schedule), so that
    /// no queued job fails on it. Empty: it can.
    /// </summary>
    public static Dictionary<string, string[]> CheckEngineKey(GenerationSpec spec, ModelInfo model)
    {
        try
        {
            // The schedule too: a step count the scheduler refuses would otherwise fail the job in the engine.
            BatchKey.For(spec.ToEngineRequest(0), model).StepsThatRun(model.SchedulerConfig);
            return new(StringComparer.Ordinal);
        }
        catch (ArgumentException ex)
        {
            return EngineKeyErrors(ex);
        }
    }

    /// <summary>The engine's refusal of a batch key as a field error: the strength, the scheduler, or the image inputs the model needs.</summary>
    public static Dictionary<string, string[]> EngineKeyErrors(ArgumentException refusal)
    {
        var message = refusal.Message;
        var suffix = $" (Parameter '{refusal.ParamName}')";
        if (refusal.ParamName is not null && message.EndsWith(suffix, StringComparison.Ordinal)) message = message[..^suffix.Length];
        var field = refusal.ParamName == "strength" || message.StartsWith("strength", StringComparison.Ordinal) ? "strength"
            : refusal.ParamName == "steps" ? "steps"
            : message.StartsWith("scheduler", StringComparison.Ordinal) ? "scheduler"
            : message.Contains("cannot run", StringComparison.Ordinal) ? "image"
            : "prompt";
        return new(StringComparer.Ordinal) { [field] = [message] };
    }

    /// <summary>The request's images, read and checked; null where absent or bad (reported).</summary>
    private sealed record RequestImages(byte[]? InitBytes, RgbaImage? Init, byte[]? MaskBytes, RgbaImage? Mask, MaskConvention Convention);

    private static RequestImages ReadImages(ImageGenerationRequest request, ImageUploads? uploads, LimitsOptions limits, Action<string, string> add)
    {
        var convention = uploads?.Convention ?? MaskConvention.Luminance;
        var initBytes = uploads is not null ? uploads.Image : request.Image is { } imageText ? ImageInputs.FromText("image", imageText, limits, add) : null;
        var maskBytes = uploads is not null ? uploads.Mask : request.Mask is { } maskText ? ImageInputs.FromText("mask", maskText, limits, add) : null;
        var imageSent = uploads?.Image is not null || request.Image is not null;
        var init = initBytes is null ? null : ImageInputs.Decode("image", initBytes, limits, add);
        var mask = maskBytes is null ? null : ImageInputs.Decode("mask", maskBytes, limits, add);
        if (init is null) initBytes = null;
        if (mask is null) maskBytes = null;

        if ((uploads?.Mask is not null || request.Mask is not null) && !imageSent)
            add("mask", "mask needs an image to apply to; send image too");
        if (init is not null && mask is not null && (init.Width != mask.Width || init.Height != mask.Height))
            add("mask", $"mask must be the same size as image ({init.Width}x{init.Height}) but was {mask.Width}x{mask.Height}");
        if (convention == MaskConvention.Transparency && init is not null)
        {
            // OpenAI's convention: transparent pixels mark the area to edit. A mask without any edits nothing; an image
            // without a mask and without transparent pixels is edited as a whole (image-to-image).
            if (mask is not null && !mask.HasFullyTransparentPixels)
                add("mask", "mask has no fully transparent pixels, so it marks nothing to edit (the fully transparent pixels of the mask are the area to edit)");
            else if (mask is null && !init.HasFullyTransparentPixels) convention = MaskConvention.Luminance;
        }
        else if (mask is not null && !MaskConventions.MarksAnyPixel(mask, convention))
            add("mask", "mask marks nothing to repaint: no pixel is white enough (luma at least 128; white repaints, black keeps)");

        if (request.Strength is { } strength)
        {
            if (!imageSent) add("strength", "strength applies only with an image (image-to-image or inpainting); send image too, or leave strength out");
            else if (!double.IsFinite(strength) || strength <= 0 || strength > 1)
                add("strength", $"strength must be greater than 0 and at most 1 but was {Format(strength)}");
        }
        return new RequestImages(initBytes, init, maskBytes, mask, convention);
    }

    // The text's chunks within Limits:MaxPromptChunks and the model's own limit; the reader's messages name the field.
    private static void CheckPromptChunks(string field, string text, PromptReader reader, PromptSyntax syntax, LimitsOptions limits, Action<string, string> add)
    {
        try
        {
            reader.Read(text, syntax, limits.MaxPromptChunks, field);
        }
        catch (ArgumentException ex)
        {
            add(field, ex.Message);
        }
    }

    private static void CheckDimension(string name, int value, int min, int max, Action<string, string> add)
    {
        if (value % 8 != 0) add("size", $"{name} must be a multiple of 8 but was {value}");
        if (value < min || value > max) add("size", $"{name} must be between {min} and {max} but was {value}");
    }

    // Digits only: int.TryParse alone would accept trailing NULs ("512x512\0").
    private static bool TryParseSize(string size, out int width, out int height)
    {
        width = height = 0;
        var x = size.IndexOfAny(['x', 'X']);
        return x > 0
            && IsDigits(size.AsSpan(0, x)) && IsDigits(size.AsSpan(x + 1))
            && int.TryParse(size.AsSpan(0, x), NumberStyles.None, CultureInfo.InvariantCulture, out width)
            && int.TryParse(size.AsSpan(x + 1), NumberStyles.None, CultureInfo.InvariantCulture, out height);
    }

    private static bool IsDigits(ReadOnlySpan<char> text) => !text.IsEmpty && !text.ContainsAnyExceptInRange('0', '9');

    private static bool TryParseQuality(string text, out QualityPreset quality)
    {
        quality = text switch
        {
            "auto" => QualityPreset.Auto,
            "low" => QualityPreset.Low,
            "medium" or "standard" => QualityPreset.Medium,
            "high" or "hd" => QualityPreset.High,
            _ => (QualityPreset)(-1),
        };
        return Enum.IsDefined(quality);
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
