using DiffusionEngine.Imaging;
using DiffusionEngine.Text.Prompts;

namespace DiffusionEngine.Pipelines;

/// <summary>
/// One image to generate. Requests with equal <see cref="BatchKey"/>s (size, steps, scheduler, mode, first step, and
/// whether the unconditional pass runs) can run together in one engine batch; prompts, seeds, guidance, init images and
/// masks may differ. The request's images are decoded pixels (<see cref="ImageDecoder"/> makes them from PNG, JPEG or
/// WebP bytes), so a batch never fails halfway on a bad upload.
/// </summary>
public sealed record GenerationRequest
{
    /// <summary>The text prompt.</summary>
    public required string Prompt { get; init; }

    /// <summary>The negative prompt: the unconditional half of classifier-free guidance ("" by default; unused when no unconditional pass runs).</summary>
    public string NegativePrompt { get; init; } = "";

    /// <summary>
    /// How the prompt and the negative prompt are read: A1111's syntax (weights, BREAK, any length in 75-token chunks;
    /// the default) or plain text in one 77-token window (<see cref="PromptTokenizer.Tokenize"/>).
    /// </summary>
    public PromptSyntax PromptSyntax { get; init; } = PromptSyntax.A1111;

    /// <summary>How token weights change the text encoder's hidden states (<see cref="PromptEmphasis"/>); A1111's "Original" by default.</summary>
    public EmphasisMode Emphasis { get; init; } = EmphasisMode.Original;

    /// <summary>
    /// Clip skip, counted as A1111's <c>CLIP_stop_at_last_layers</c>: 1 (the default) conditions on the layer the model
    /// conditions on by default (SD 1.x/2.x: last_hidden_state; SDXL: the penultimate layer of both encoders); N on the
    /// layer N − 1 before it (SD 1.x/2.x: <c>hidden_states[-N]</c> through the final LayerNorm, as A1111 and diffusers;
    /// SDXL: <c>hidden_states[-(N+1)]</c>, as diffusers' clip_skip N − 1). Above 1 the text encoder must have been exported
    /// with its hidden states (<see cref="PromptReader.ClipSkipProblem"/>).
    /// </summary>
    public int ClipSkip { get; init; } = 1;

    /// <summary>Number of denoising steps of the full schedule (with an init image, ⌊Steps·strength⌋ of them run, as in diffusers).</summary>
    public int Steps { get; init; } = 20;

    /// <summary>Classifier-free guidance scale; at or below 1 the unconditional pass is skipped. LCM models take it as their guidance embedding instead.</summary>
    public float GuidanceScale { get; init; } = 7.5f;

    /// <summary>Image width in pixels, a multiple of 8. An init image of another size is resized to it.</summary>
    public int Width { get; init; } = 512;

    /// <summary>Image height in pixels, a multiple of 8.</summary>
    public int Height { get; init; } = 512;

    /// <summary>Seed of this image's noise stream.</summary>
    public ulong Seed { get; init; }

    /// <summary>
    /// A1111's variation seed: the seed of a second noise that <see cref="SubseedStrength"/> mixes into this image's
    /// initial noise by spherical interpolation (<see cref="Noise.VariationNoise"/>). Unused while the strength is 0.
    /// </summary>
    public ulong Subseed { get; init; }

    /// <summary>How much of the variation seed's noise to mix in, 0 (none, the default) to 1 (only the variation noise).</summary>
    public float SubseedStrength { get; init; }

    /// <summary>
    /// A1111's "resize seed from": with both above 0, the initial noise is drawn as for an image of this width and height
    /// and pasted, centred, into the image's noise, so a seed keeps its composition at another size. 0 (the default): off.
    /// </summary>
    public int SeedResizeFromWidth { get; init; }

    /// <summary>See <see cref="SeedResizeFromWidth"/>.</summary>
    public int SeedResizeFromHeight { get; init; }

    /// <summary>Scheduler name (see SchedulerFactory); null uses the model folder's scheduler_config.json.</summary>
    public string? Scheduler { get; init; }

    /// <summary>Which generator draws the noise for <see cref="Seed"/>.</summary>
    public RngKind Rng { get; init; } = RngKind.Cpu;

    /// <summary>
    /// The image to start from (image-to-image, inpainting), or null for text-to-image. Its alpha channel is dropped:
    /// the RGB values are used as stored. Resized to <see cref="Width"/>×<see cref="Height"/> when its size differs.
    /// </summary>
    public RgbaImage? InitImage { get; init; }

    /// <summary>The inpainting mask, the same size as <see cref="InitImage"/>; read as <see cref="MaskConvention"/> says.</summary>
    public RgbaImage? Mask { get; init; }

    /// <summary>
    /// How the mask marks the area to repaint. With <see cref="Pipelines.MaskConvention.Transparency"/> and no
    /// <see cref="Mask"/>, the init image's own fully transparent pixels are the mask (OpenAI's images/edits).
    /// </summary>
    public MaskConvention MaskConvention { get; init; } = MaskConvention.Luminance;

    /// <summary>
    /// How much of the init image to repaint, in (0, 1], as diffusers' <c>strength</c>: the schedule skips its first
    /// <c>Steps − ⌊Steps·strength⌋</c> steps and the image is noised to the first step that runs. Null uses the mode's
    /// default (<see cref="ModelDefaults.StrengthFor"/>: 0.8 for image-to-image, 1 for inpainting). Only with an init image.
    /// </summary>
    public double? Strength { get; init; }

    /// <summary>
    /// Standard deviation in pixels of a Gaussian blur applied to the mask before it is used (A1111's mask_blur); 0 (the
    /// default) leaves it sharp. Only when inpainting. The blurred mask feathers the paste-back.
    /// </summary>
    public int MaskBlur { get; init; }

    /// <summary>What the masked area's latents start from (A1111's inpainting_fill 1–3). Only when inpainting.</summary>
    public InpaintStart InpaintStart { get; init; }

    /// <summary>
    /// When inpainting, composite the result over the init image with the (blurred) mask as alpha, so every pixel the
    /// mask keeps is exactly as sent (A1111's behaviour). On by default.
    /// </summary>
    public bool PasteBack { get; init; } = true;

    /// <summary>
    /// What this request asks for: text-to-image without an init image; inpainting with a mask (or the transparency
    /// convention, where the image's own alpha is the mask); image-to-image otherwise.
    /// </summary>
    public GenerationMode Mode =>
        InitImage is null ? GenerationMode.TextToImage
        : Mask is not null || MaskConvention == MaskConvention.Transparency ? GenerationMode.Inpaint
        : GenerationMode.ImageToImage;
}
