using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Text.Prompts;

namespace DiffusionApi.Model;

/// <summary>How the client wants its images back.</summary>
public enum ResponseFormat
{
    B64Json,
    Url,
}

/// <summary>
/// A request that passed validation: every value present, resolved and within limits. It maps to one engine
/// <see cref="GenerationRequest"/> per image, image i with seed <see cref="Seed"/> + i (A1111's rule).
/// <see cref="Scheduler"/> is a canonical scheduler id, or null for the model folder's own scheduler.
/// <see cref="OutputQuality"/> is the JPEG/WebP quality (0–100) the images are encoded with. <see cref="PromptSyntax"/>,
/// <see cref="Emphasis"/> and <see cref="ClipSkip"/> say how the prompts are read (resolved: the configured defaults applied).
/// <see cref="InitImage"/> and <see cref="Mask"/> (image-to-image, inpainting) are the uploads as sent, validated and
/// decoded by the worker; <see cref="Strength"/> null uses the mode's default. <see cref="Previews"/> asks the worker
/// for live latent previews of the job's first image: 0 none, N &gt; 0 about N spread over the steps (OpenAI's
/// partial_images; the last step's image is the result itself), <see cref="EveryStep"/> after every step.
/// <see cref="Overlay"/> (A1111's "only masked" inpainting) pastes each generated image back into the init image;
/// <see cref="InpaintStart"/> is what the masked latents start from (A1111's inpainting_fill 1–3).
/// </summary>
public sealed record GenerationSpec(
    string Model,
    string Prompt,
    string NegativePrompt,
    int Width,
    int Height,
    int Steps,
    float GuidanceScale,
    ulong Seed,
    int Count,
    string? Scheduler,
    ImageFormat OutputFormat,
    RngKind Rng,
    ResponseFormat ResponseFormat,
    string? User,
    int OutputQuality = ImageEncoder.DefaultQuality,
    PromptSyntax PromptSyntax = PromptSyntax.A1111,
    EmphasisMode Emphasis = EmphasisMode.Original,
    int ClipSkip = 1,
    ulong Subseed = 0,
    float SubseedStrength = 0,
    int SeedResizeFromWidth = 0,
    int SeedResizeFromHeight = 0,
    EncodedImage? InitImage = null,
    EncodedImage? Mask = null,
    double? Strength = null,
    MaskConvention MaskConvention = MaskConvention.Luminance,
    int MaskBlur = 0,
    int Previews = 0,
    InpaintOverlay? Overlay = null,
    InpaintStart InpaintStart = InpaintStart.Original)
{
    /// <summary><see cref="Previews"/>: a preview after every step (A1111's live preview, opt-in job events).</summary>
    public const int EveryStep = -1;

    /// <summary>
    /// Whether the job wants a preview after <paramref name="step"/> of <paramref name="totalSteps"/>: every step for
    /// <see cref="EveryStep"/>; for N previews, the steps where ⌊step·(N+1)/total⌋ grows, before the last step (so a
    /// short run gives fewer, never more, as OpenAI allows).
    /// </summary>
    public bool WantsPreviewAfter(int step, int totalSteps)
    {
        if (Previews == EveryStep) return true;
        if (Previews <= 0 || step >= totalSteps || totalSteps <= 0) return false;
        return step * (Previews + 1) / totalSteps > (step - 1) * (Previews + 1) / totalSteps;
    }

    /// <summary>
    /// Image i's seed: <see cref="Seed"/> + i, except with a variation seed, where A1111 keeps one seed for every image
    /// and varies the subseed (<see cref="SubseedOf"/>) instead.
    /// </summary>
    public ulong SeedOf(int image) => SubseedStrength == 0 ? Seed + (ulong)image : Seed;

    /// <summary>Image i's variation seed: <see cref="Subseed"/> + i (A1111's all_subseeds).</summary>
    public ulong SubseedOf(int image) => Subseed + (ulong)image;

    /// <summary>One engine request per image; the images share one decode of the init image and mask.</summary>
    public IReadOnlyList<GenerationRequest> ToEngineRequests()
    {
        var (init, mask) = (InitImage?.Decode(), Mask?.Decode());
        var requests = new GenerationRequest[Count];
        for (var i = 0; i < Count; i++) requests[i] = ToEngineRequest(i, init, mask);
        return requests;
    }

    /// <summary>The engine request of image <paramref name="image"/> (0 ≤ image &lt; <see cref="Count"/>).</summary>
    public GenerationRequest ToEngineRequest(int image) => ToEngineRequest(image, InitImage?.Decode(), Mask?.Decode());

    private GenerationRequest ToEngineRequest(int image, RgbaImage? init, RgbaImage? mask) => new()
    {
        Prompt = Prompt,
        NegativePrompt = NegativePrompt,
        Steps = Steps,
        GuidanceScale = GuidanceScale,
        Width = Width,
        Height = Height,
        Seed = SeedOf(image),
        Subseed = SubseedOf(image),
        SubseedStrength = SubseedStrength,
        SeedResizeFromWidth = SeedResizeFromWidth,
        SeedResizeFromHeight = SeedResizeFromHeight,
        Scheduler = Scheduler,
        Rng = Rng,
        PromptSyntax = PromptSyntax,
        Emphasis = Emphasis,
        ClipSkip = ClipSkip,
        InitImage = init,
        Mask = mask,
        Strength = Strength,
        MaskConvention = MaskConvention,
        MaskBlur = MaskBlur,
        InpaintStart = InpaintStart,
    };
}
