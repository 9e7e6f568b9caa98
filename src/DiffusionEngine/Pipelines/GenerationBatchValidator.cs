namespace DiffusionEngine.Pipelines;

/// <summary>
/// Step 1 of the pipeline ("check inputs"): rejects a batch the engine cannot run, naming the field and the value.
/// Nothing is rounded or clamped.
/// </summary>
internal static class GenerationBatchValidator
{
    /// <exception cref="ArgumentException">A request is invalid, or the batch's requests differ in width, height, steps or scheduler.</exception>
    public static void Validate(IReadOnlyList<GenerationRequest> batch, int? fixedLatentHeight, int? fixedLatentWidth)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0) throw new ArgumentException("the batch must hold at least one request but was empty", nameof(batch));

        var first = batch[0] ?? throw new ArgumentException("batch[0] is null", nameof(batch));
        for (var i = 0; i < batch.Count; i++)
        {
            var request = batch[i] ?? throw new ArgumentException($"batch[{i}] is null", nameof(batch));
            ValidateRequest(request, i);
            RequireSame("width", first.Width, request.Width, i);
            RequireSame("height", first.Height, request.Height, i);
            RequireSame("steps", first.Steps, request.Steps, i);
            if (!string.Equals(first.Scheduler, request.Scheduler, StringComparison.Ordinal))
            {
                throw new ArgumentException(
                    $"every request of a batch must use the same scheduler: request 0 has '{first.Scheduler ?? "(model default)"}' but request {i} has '{request.Scheduler ?? "(model default)"}'",
                    nameof(batch));
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
    }

    private static void ValidateRequest(GenerationRequest request, int index)
    {
        if (request.Prompt is null) throw new ArgumentException($"prompt of request {index} must not be null", nameof(request));
        if (request.NegativePrompt is null) throw new ArgumentException($"negative prompt of request {index} must not be null (use \"\")", nameof(request));
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
