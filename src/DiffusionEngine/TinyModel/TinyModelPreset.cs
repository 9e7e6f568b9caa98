namespace DiffusionEngine.TinyModel;

/// <summary>What the builder writes: which model kind, at toy scale or at the real architecture's size.</summary>
public enum TinyModelPreset
{
    /// <summary>Toy-scale SD 1.x: writes in well under a second, generates 256×256 in a fraction of a second on a CPU. The built-in default.</summary>
    Tiny,

    /// <summary>
    /// The full Stable Diffusion 1.5 sizes (CLIP ViT-L/14 text encoder, 860M-parameter UNet, VAE) with random
    /// weights: about 4 GB on disk, for performance work only; the images it makes mean nothing.
    /// </summary>
    Sd15,

    /// <summary>Toy-scale SDXL: two text encoders with hidden-state outputs (the second with text_embeds), a UNet with text_embeds and time_ids.</summary>
    TinySdxl,

    /// <summary>Toy-scale SD inpainting: a 9-channel UNet (latents ‖ mask ‖ masked-image latents).</summary>
    TinyInpaint,

    /// <summary>Toy-scale latent consistency model: a UNet with timestep_cond and an LCMScheduler config.</summary>
    TinyLcm,

    /// <summary>
    /// The full SDXL base sizes (CLIP ViT-L and OpenCLIP ViT-bigG text encoders, 2.6B-parameter UNet, VAE) with random
    /// weights and external data: about 14 GB on disk in float32, for benchmarks only.
    /// </summary>
    Sdxl,
}

/// <summary>The names the CLI and docs use for presets.</summary>
public static class TinyModelPresets
{
    /// <summary>"tiny", "sd15", "tiny-sdxl", "tiny-inpaint", "tiny-lcm", "sdxl".</summary>
    public static string Id(this TinyModelPreset preset) => preset switch
    {
        TinyModelPreset.Tiny => "tiny",
        TinyModelPreset.Sd15 => "sd15",
        TinyModelPreset.TinySdxl => "tiny-sdxl",
        TinyModelPreset.TinyInpaint => "tiny-inpaint",
        TinyModelPreset.TinyLcm => "tiny-lcm",
        TinyModelPreset.Sdxl => "sdxl",
        _ => throw new ArgumentOutOfRangeException(nameof(preset), preset, "unknown preset"),
    };

    /// <summary>Every preset, in the order help text lists them.</summary>
    public static IReadOnlyList<TinyModelPreset> All { get; } =
        [TinyModelPreset.Tiny, TinyModelPreset.Sd15, TinyModelPreset.TinySdxl, TinyModelPreset.TinyInpaint, TinyModelPreset.TinyLcm, TinyModelPreset.Sdxl];

    /// <summary>The preset an id names, or false.</summary>
    public static bool TryParse(string? id, out TinyModelPreset preset)
    {
        foreach (var candidate in All)
        {
            if (candidate.Id() == id)
            {
                preset = candidate;
                return true;
            }
        }
        preset = default;
        return false;
    }

    /// <summary>Whether the preset is SDXL-shaped (two text encoders, added conditioning).</summary>
    public static bool IsXL(this TinyModelPreset preset) => preset is TinyModelPreset.TinySdxl or TinyModelPreset.Sdxl;

    /// <summary>Whether the preset is a real architecture's full size (weights in external data always).</summary>
    public static bool IsFullSize(this TinyModelPreset preset) => preset is TinyModelPreset.Sd15 or TinyModelPreset.Sdxl;
}
