namespace DiffusionEngine.Pipelines;

/// <summary>
/// Step 1 of every pipeline ("check inputs"): rejects a batch the engine cannot run, naming the field and the value,
/// and computes the batch's <see cref="BatchKey"/>, which every request must share. Nothing is rounded or clamped.
/// </summary>
internal static class GenerationBatchValidator
{
    /// <summary>Largest mask blur (standard deviation in pixels) accepted; A1111's slider stops at 64.</summary>
    public const int MaxMaskBlur = 64;

    /// <param name="batch">The requests.</param>
    /// <param name="model">The model that runs them (with its <see cref="ModelInfo.Prompts"/>).</param>
    /// <param name="fixedLatentHeight">The UNet's fixed latent height, if any.</param>
    /// <param name="fixedLatentWidth">The UNet's fixed latent width, if any.</param>
    /// <param name="prompts">Each request's texts, tokenized and padded to the batch's chunk count.</param>
    /// <exception cref="ArgumentException">A request is invalid, or the batch's requests have different batch keys.</exception>
    public static BatchKey Validate(IReadOnlyList<GenerationRequest> batch, ModelInfo model, int? fixedLatentHeight, int? fixedLatentWidth,
        out RequestPrompts[] prompts)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0) throw new ArgumentException("the batch must hold at least one request but was empty", nameof(batch));

        var first = batch[0] ?? throw new ArgumentException("batch[0] is null", nameof(batch));
        BatchKey key = default;
        prompts = new RequestPrompts[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var request = batch[i] ?? throw new ArgumentException($"batch[{i}] is null", nameof(batch));
            ValidateRequest(request, i, model);
            var requestKey = BatchKey.WithPrompts(request, model, out prompts[i]);
            if (i == 0)
            {
                key = requestKey;
                continue;
            }
            RequireSame("width", key.Width, requestKey.Width, i);
            RequireSame("height", key.Height, requestKey.Height, i);
            RequireSame("steps", key.Steps, requestKey.Steps, i);
            if (!string.Equals(key.Scheduler, requestKey.Scheduler, StringComparison.Ordinal))
            {
                throw new ArgumentException(
                    $"every request of a batch must use the same scheduler: request 0 has '{key.Scheduler}' but request {i} has '{requestKey.Scheduler}'",
                    nameof(batch));
            }
            if (key.Mode != requestKey.Mode)
            {
                throw new ArgumentException(
                    $"every request of a batch must have the same mode: request 0 is {key.Mode.Id()} but request {i} is {requestKey.Mode.Id()}", nameof(batch));
            }
            if (key.FirstStep != requestKey.FirstStep)
            {
                throw new ArgumentException(
                    $"every request of a batch must start at the same step (same steps and strength): request 0 starts at step {key.FirstStep} " +
                    $"but request {i} at step {requestKey.FirstStep}", nameof(batch));
            }
            if (key.UnconditionalPass != requestKey.UnconditionalPass)
            {
                throw new ArgumentException(
                    $"every request of a batch must agree on the unconditional pass (guidance scale above 1 or not): request 0 has guidance " +
                    $"{first.GuidanceScale} but request {i} has {request.GuidanceScale}", nameof(batch));
            }
            if (key.PromptChunks != requestKey.PromptChunks)
            {
                throw new ArgumentException(
                    $"every request of a batch must have prompts of the same number of 75-token chunks: request 0 has {key.PromptChunks} " +
                    $"but request {i} has {requestKey.PromptChunks}", nameof(batch));
            }
        }

        if (fixedLatentHeight is { } latentHeight && first.Height != latentHeight * 8)
        {
            throw new ArgumentException($"height must be {latentHeight * 8} for this model (its UNet was exported for a fixed size) but was {first.Height}", nameof(batch));
        }
        if (fixedLatentWidth is { } latentWidth && first.Width != latentWidth * 8)
        {
            throw new ArgumentException($"width must be {latentWidth * 8} for this model (its UNet was exported for a fixed size) but was {first.Width}", nameof(batch));
        }
        return key;
    }

    private static void ValidateRequest(GenerationRequest request, int index, ModelInfo model)
    {
        if (request.Prompt is null) throw new ArgumentException($"prompt of request {index} must not be null", nameof(request));
        if (request.NegativePrompt is null) throw new ArgumentException($"negative prompt of request {index} must not be null (use \"\")", nameof(request));
        if (!Enum.IsDefined(request.PromptSyntax))
        {
            throw new ArgumentException($"prompt syntax must be A1111 or Plain but was {(int)request.PromptSyntax}", nameof(request));
        }
        if (!Enum.IsDefined(request.Emphasis))
        {
            throw new ArgumentException($"emphasis must be Original, NoNorm, Ignore or Comfy but was {(int)request.Emphasis}", nameof(request));
        }
        if (model.Prompts?.ClipSkipProblem(request.ClipSkip) is { } clipSkipProblem)
        {
            throw new ArgumentException($"request {index}: {clipSkipProblem}", nameof(request));
        }
        RequireDimension("width", request.Width);
        RequireDimension("height", request.Height);
        if (request.Steps < 1) throw new ArgumentException($"steps must be at least 1 but was {request.Steps}", nameof(request));
        if (!Enum.IsDefined(request.Rng))
        {
            throw new ArgumentException($"rng must be Cpu or Gpu but was {(int)request.Rng}", nameof(request));
        }
        if (!float.IsFinite(request.GuidanceScale))
        {
            throw new ArgumentException($"guidance scale must be a finite number but was {request.GuidanceScale}", nameof(request));
        }
        if (!Enum.IsDefined(request.MaskConvention))
        {
            throw new ArgumentException($"mask convention must be Luminance or Transparency but was {(int)request.MaskConvention}", nameof(request));
        }
        ValidateImages(request, index);
    }

    private static void ValidateImages(GenerationRequest request, int index)
    {
        if (request.InitImage is not { } image)
        {
            if (request.Mask is not null) throw new ArgumentException($"request {index} has a mask but no init image to apply it to", nameof(request));
            if (request.Strength is not null) throw new ArgumentException($"request {index} has a strength but no init image to apply it to", nameof(request));
            if (request.MaskConvention != MaskConvention.Luminance)
            {
                throw new ArgumentException($"request {index} has mask convention {request.MaskConvention} but no init image", nameof(request));
            }
        }
        else if (request.Mask is { } mask && (mask.Width != image.Width || mask.Height != image.Height))
        {
            throw new ArgumentException(
                $"the mask of request {index} must be the size of its init image ({image.Width}x{image.Height}) but is {mask.Width}x{mask.Height}", nameof(request));
        }
        if (!float.IsFinite(request.SubseedStrength) || request.SubseedStrength is < 0f or > 1f)
        {
            throw new ArgumentException($"the subseed strength of request {index} must be between 0 and 1 but was {request.SubseedStrength}", nameof(request));
        }
        if (request.SeedResizeFromWidth < 0 || request.SeedResizeFromHeight < 0)
        {
            throw new ArgumentException(
                $"the seed resize size of request {index} must not be negative but was {request.SeedResizeFromWidth}x{request.SeedResizeFromHeight}", nameof(request));
        }
        if (request.MaskBlur is < 0 or > MaxMaskBlur)
        {
            throw new ArgumentException($"mask blur must be between 0 and {MaxMaskBlur} pixels but was {request.MaskBlur}", nameof(request));
        }
        if (request.MaskBlur != 0 && request.Mode != GenerationMode.Inpaint)
        {
            throw new ArgumentException($"request {index} has a mask blur but is not inpainting (it has no mask)", nameof(request));
        }
        if (request.InpaintStart != InpaintStart.Original && request.Mode != GenerationMode.Inpaint)
        {
            throw new ArgumentException($"request {index} sets the masked area's start ({request.InpaintStart}) but is not inpainting (it has no mask)", nameof(request));
        }
        if (request.Mode == GenerationMode.Inpaint && request.Mask is null && !request.InitImage!.HasFullyTransparentPixels)
        {
            throw new ArgumentException(
                $"request {index} asks to edit the init image's transparent area, but the image has no fully transparent pixels; send a mask or an image with transparency",
                nameof(request));
        }
    }

    private static void RequireDimension(string name, int value)
    {
        if (value <= 0) throw new ArgumentException($"{name} must be positive but was {value}", name);
        if (value % 8 != 0) throw new ArgumentException($"{name} must be a multiple of 8 but was {value}", name);
    }

    private static void RequireSame(string name, int expected, int actual, int index)
    {
        if (expected != actual)
        {
            throw new ArgumentException(
                $"every request of a batch must have the same {name}: request 0 has {expected} but request {index} has {actual}", "batch");
        }
    }
}
