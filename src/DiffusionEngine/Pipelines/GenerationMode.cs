namespace DiffusionEngine.Pipelines;

/// <summary>What a request asks of the model; <see cref="GenerationRequest.Mode"/> derives it from the request's images.</summary>
public enum GenerationMode
{
    /// <summary>Text-to-image: latents start as pure noise.</summary>
    TextToImage,

    /// <summary>Image-to-image: latents start as the VAE-encoded init image noised to the first step that runs.</summary>
    ImageToImage,

    /// <summary>Inpainting: only the masked area of the init image is repainted.</summary>
    Inpaint,
}

/// <summary>The stable ids of <see cref="GenerationMode"/> ("txt2img", "img2img", "inpaint"), as APIs and <c>inspect</c> show them.</summary>
public static class GenerationModes
{
    /// <summary>Every mode, in the order capabilities are listed.</summary>
    public static IReadOnlyList<GenerationMode> All { get; } = [GenerationMode.TextToImage, GenerationMode.ImageToImage, GenerationMode.Inpaint];

    /// <summary>"txt2img", "img2img" or "inpaint".</summary>
    public static string Id(this GenerationMode mode) => mode switch
    {
        GenerationMode.TextToImage => "txt2img",
        GenerationMode.ImageToImage => "img2img",
        GenerationMode.Inpaint => "inpaint",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown generation mode"),
    };

    /// <summary>The mode an id names (exact, lower case), or false.</summary>
    public static bool TryParse(string? id, out GenerationMode mode)
    {
        foreach (var candidate in All)
        {
            if (string.Equals(candidate.Id(), id, StringComparison.Ordinal))
            {
                mode = candidate;
                return true;
            }
        }
        mode = default;
        return false;
    }
}
