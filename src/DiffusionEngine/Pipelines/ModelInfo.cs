namespace DiffusionEngine.Pipelines;

/// <summary>What a loaded pipeline runs.</summary>
/// <param name="Name">The model folder's name.</param>
/// <param name="Directory">Full path of the model folder.</param>
/// <param name="DefaultScheduler">The scheduler scheduler_config.json names (short id such as "pndm" when known, else its class name).</param>
/// <param name="TokenizerMaxLength">The text window in tokens, BOS and EOS included (77 for SD).</param>
/// <param name="ExecutionProvider">"CUDA" or "CPU": where the sessions actually run.</param>
public sealed record ModelInfo(string Name, string Directory, string DefaultScheduler, int TokenizerMaxLength, string ExecutionProvider)
{
    /// <summary>What the folder is (SD, SDXL, inpainting, LCM, Turbo); it picks the pipeline.</summary>
    public ModelKind Kind { get; init; } = ModelKind.StableDiffusion;

    /// <summary>The modes this model can run: text-to-image unless its UNet is an inpainting one; image-to-image and inpainting need a VAE encoder.</summary>
    public IReadOnlyList<GenerationMode> Capabilities { get; init; } = [GenerationMode.TextToImage];

    /// <summary>What a request that leaves a value out should use (the model's own, not the caller's).</summary>
    public ModelDefaults Defaults { get; init; } = new(512, 512, 20, 7.5f, DefaultScheduler);

    /// <summary>
    /// How the model reads prompts (tokenizers, chunk limits, clip skip); set on every loaded pipeline's model. The batch
    /// key needs it to count a request's prompt chunks.
    /// </summary>
    public PromptReader? Prompts { get; init; }

    /// <summary>The model's scheduler_config.json: how long a schedule is (<see cref="BatchKey.StepsThatRun"/>) depends on it.</summary>
    public Schedulers.SchedulerConfig SchedulerConfig { get; init; } = Schedulers.SchedulerConfig.Empty;

    /// <summary>Whether <paramref name="mode"/> is one of <see cref="Capabilities"/>.</summary>
    public bool Supports(GenerationMode mode)
    {
        foreach (var capability in Capabilities)
        {
            if (capability == mode) return true;
        }
        return false;
    }
}
