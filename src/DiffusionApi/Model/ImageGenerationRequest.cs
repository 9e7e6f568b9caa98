using System.Text.Json.Serialization;

namespace DiffusionApi.Model;

/// <summary>
/// The OpenAI Images API request (<c>POST /v1/images/generations</c>) plus this service's extensions. Also the body of
/// <c>POST /v1/generate</c> (where <c>n</c> must be 1) and <c>POST /v1/jobs</c>. Every field is optional on the wire but
/// <c>prompt</c>; the validator names each bad one. A field not declared here is a 400 naming it
/// (<see cref="V1FieldAdvice"/> says what to send instead).
/// </summary>
public sealed record ImageGenerationRequest
{
    /// <summary>What to draw.</summary>
    [JsonPropertyName("prompt")] public string? Prompt { get; init; }

    /// <summary>Images to generate (1 by default); image i uses seed + i.</summary>
    [JsonPropertyName("n")] public int? N { get; init; }

    /// <summary>"WIDTHxHEIGHT", both multiples of 8 (512x512 by default).</summary>
    [JsonPropertyName("size")] public string? Size { get; init; }

    /// <summary>b64_json (default) or url.</summary>
    [JsonPropertyName("response_format")] public string? ResponseFormat { get; init; }

    /// <summary>The model id from GET /v1/models; empty uses the default model (the first of Diffusion:Models).</summary>
    [JsonPropertyName("model")] public string? Model { get; init; }

    /// <summary>An end-user id, logged with the job.</summary>
    [JsonPropertyName("user")] public string? User { get; init; }

    /// <summary>What not to draw: the unconditional half of classifier-free guidance.</summary>
    [JsonPropertyName("negative_prompt")] public string? NegativePrompt { get; init; }

    /// <summary>Denoising steps (the model's default, 20, when neither steps nor quality is given).</summary>
    [JsonPropertyName("steps")] public int? Steps { get; init; }

    /// <summary>Classifier-free guidance scale (7.5 by default).</summary>
    [JsonPropertyName("guidance_scale")] public double? GuidanceScale { get; init; }

    /// <summary>
    /// Seed of the first image, 0 to 2^64−1 (a JSON number or a string of digits; JavaScript numbers are exact only up to
    /// 2^53−1). Missing draws one at random in [0, 2^32) and returns it.
    /// </summary>
    [JsonPropertyName("seed")] public ulong? Seed { get; init; }

    /// <summary>A scheduler id or name from GET /v1/schedulers; missing uses the model's own.</summary>
    [JsonPropertyName("scheduler")] public string? Scheduler { get; init; }

    /// <summary>png (default), jpeg or webp.</summary>
    [JsonPropertyName("output_format")] public string? OutputFormat { get; init; }

    /// <summary>OpenAI: JPEG/WebP quality 0–100 (90 by default); not for png, which is lossless.</summary>
    [JsonPropertyName("output_compression")] public int? OutputCompression { get; init; }

    /// <summary>
    /// OpenAI: low, medium, high or auto (default); standard and hd (DALL·E 3) mean medium and high. Chooses the steps
    /// from the model's presets (for a 20-step model: 10, 20, 40); not together with <c>steps</c>.
    /// </summary>
    [JsonPropertyName("quality")] public string? Quality { get; init; }

    /// <summary>OpenAI: opaque or auto (the images are always opaque); transparent is not supported.</summary>
    [JsonPropertyName("background")] public string? Background { get; init; }

    /// <summary>OpenAI: low or auto. Accepted for compatibility; this service applies no content moderation.</summary>
    [JsonPropertyName("moderation")] public string? Moderation { get; init; }

    /// <summary>cpu (PyTorch CPU generator, default) or gpu (A1111 Philox).</summary>
    [JsonPropertyName("rng")] public string? Rng { get; init; }

    /// <summary>
    /// How prompt and negative_prompt are read: a1111 (default: <c>(word:1.3)</c>, <c>(word)</c>, <c>[word]</c>, <c>BREAK</c>,
    /// prompts past 75 tokens in chunks, up to Limits:MaxPromptChunks) or plain (literal text in one 77-token window; the
    /// rest is cut). Missing: Diffusion:Prompts:Syntax.
    /// </summary>
    [JsonPropertyName("prompt_syntax")] public string? PromptSyntax { get; init; }

    /// <summary>
    /// How weights change the text encoding: original (A1111's default: scale, then restore each chunk's mean), no_norm,
    /// ignore (weights parsed, not applied) or comfy (ComfyUI's: toward or away from the empty prompt). Missing:
    /// Diffusion:Prompts:Emphasis.
    /// </summary>
    [JsonPropertyName("emphasis")] public string? Emphasis { get; init; }

    /// <summary>
    /// A1111's clip skip (CLIP_stop_at_last_layers), 1 by default: the layer the model conditions on; 2 one layer earlier,
    /// and so on (SD 1.x/2.x: hidden_states[-N] through the final layer norm; SDXL: both encoders one layer further back).
    /// Above 1 the text encoder must have been exported with its hidden states (GET /v1/models: max_clip_skip).
    /// </summary>
    [JsonPropertyName("clip_skip")] public int? ClipSkip { get; init; }

    /// <summary>
    /// OpenAI: answer Server-Sent Events (image_generation.partial_image, then image_generation.completed per image)
    /// instead of one JSON body; /v1/images/generations and /v1/images/edits only.
    /// </summary>
    [JsonPropertyName("stream")] public bool? Stream { get; init; }

    /// <summary>
    /// /v1/jobs only: the job's Server-Sent Events (<c>GET /v1/jobs/{id}/events</c>) carry a cheap latent preview of its
    /// first image after every step (<c>preview</c>, base64 in the job's output format).
    /// </summary>
    [JsonPropertyName("preview")] public bool? Preview { get; init; }

    /// <summary>OpenAI: with <c>stream</c>, how many partial images (0–3, cheap latent previews) to send before the result.</summary>
    [JsonPropertyName("partial_images")] public int? PartialImages { get; init; }

    /// <summary>
    /// The image to start from (image-to-image; inpainting with <c>mask</c>): a PNG, JPEG or WebP as base64 or a data URL
    /// (<c>data:image/png;base64,…</c>), at most Limits:MaxImageBytes and Limits:MaxImagePixels. Its alpha is dropped;
    /// it is resized to <c>size</c>, which defaults to its own size rounded down to multiples of 8 (within the limits).
    /// </summary>
    [JsonPropertyName("image")] public string? Image { get; init; }

    /// <summary>The inpainting mask, the size of <c>image</c>, as base64 or a data URL: white repaints, black keeps.</summary>
    [JsonPropertyName("mask")] public string? Mask { get; init; }

    /// <summary>
    /// How much of <c>image</c> to repaint, greater than 0 and at most 1 (diffusers' strength: ⌊steps·strength⌋ steps run).
    /// Only with an image; 0.8 for image-to-image and 1 for inpainting by default.
    /// </summary>
    [JsonPropertyName("strength")] public double? Strength { get; init; }
}
