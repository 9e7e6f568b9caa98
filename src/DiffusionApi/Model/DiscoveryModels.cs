using System.Text.Json.Serialization;

namespace DiffusionApi.Model;

/// <summary>GET /v1/models, in the OpenAI list shape.</summary>
public sealed record ModelList(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] IReadOnlyList<ModelEntry> Data);

/// <summary>
/// A model the service serves. <c>state</c> is loaded, loading, unloaded or failed; <c>default</c> marks the one a request
/// that names none gets. What the model is (<c>kind</c>, <c>capabilities</c>, <c>defaults</c>, …) is known once it has
/// loaded (and kept after it is unloaded); before its first load those fields are null.
/// <c>max_prompt_tokens</c> is the text encoder's window (77, BOS and EOS included); a prompt may take
/// up to <c>max_prompt_chunks</c> windows of 75 tokens (Limits:MaxPromptChunks, or 1 when the UNet was exported for a
/// fixed 77-token text sequence); <c>max_clip_skip</c> is 1 when the export has no hidden states. <c>kind</c> is the
/// pipeline the folder loaded as (sd, sdxl, sd-inpaint, lcm, …) and <c>capabilities</c> what it can be asked for:
/// txt2img, img2img (an <c>image</c>), inpaint (an <c>image</c> and a <c>mask</c>).
/// </summary>
public sealed record ModelEntry(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("default")] bool Default,
    [property: JsonPropertyName("kind")] string? Kind,
    [property: JsonPropertyName("capabilities")] IReadOnlyList<string>? Capabilities,
    [property: JsonPropertyName("default_scheduler")] string? DefaultScheduler,
    [property: JsonPropertyName("execution_provider")] string? ExecutionProvider,
    [property: JsonPropertyName("max_prompt_tokens")] int? MaxPromptTokens,
    [property: JsonPropertyName("defaults")] ModelDefaults? Defaults,
    [property: JsonPropertyName("max_prompt_chunks")] int? MaxPromptChunks,
    [property: JsonPropertyName("max_clip_skip")] int? MaxClipSkip,
    [property: JsonPropertyName("error")] string? Error);

/// <summary>What a request to this model that leaves a field out gets (<see cref="GenerationDefaults"/>).</summary>
public sealed record ModelDefaults(
    [property: JsonPropertyName("width")] int Width,
    [property: JsonPropertyName("height")] int Height,
    [property: JsonPropertyName("steps")] int Steps,
    [property: JsonPropertyName("guidance_scale")] double GuidanceScale)
{
    public static ModelDefaults From(GenerationDefaults defaults) => new(defaults.Width, defaults.Height, defaults.Steps, defaults.GuidanceScale);
}

/// <summary>GET /v1/schedulers.</summary>
public sealed record SchedulerList(
    [property: JsonPropertyName("default")] string Default,
    [property: JsonPropertyName("data")] IReadOnlyList<SchedulerEntry> Data);

public sealed record SchedulerEntry(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("class_name")] string ClassName,
    [property: JsonPropertyName("karras")] bool Karras);

/// <summary>POST /v1/tokenize body.</summary>
/// <param name="Prompt">The text to tokenize.</param>
/// <param name="PromptSyntax">a1111 or plain; missing: Diffusion:Prompts:Syntax (as for generation).</param>
/// <param name="Model">The model whose tokenizer reads it; missing: the default model.</param>
public sealed record TokenizeRequest(
    [property: JsonPropertyName("prompt")] string? Prompt,
    [property: JsonPropertyName("prompt_syntax")] string? PromptSyntax = null,
    [property: JsonPropertyName("model")] string? Model = null);

/// <summary>
/// What the text encoder receives for a prompt: its chunks of <see cref="Window"/> token ids (BOS, up to 75 tokens, EOS,
/// padding), each id with its weight. <see cref="TokenCount"/> counts as A1111's token counter does (75 for every chunk
/// but the last). <see cref="Truncated"/> is true only for plain syntax, which cuts what does not fit one window.
/// </summary>
public sealed record TokenizeResponse(
    [property: JsonPropertyName("syntax")] string Syntax,
    [property: JsonPropertyName("token_count")] int TokenCount,
    [property: JsonPropertyName("chunk_count")] int ChunkCount,
    [property: JsonPropertyName("max_chunks")] int MaxChunks,
    [property: JsonPropertyName("window")] int Window,
    [property: JsonPropertyName("truncated")] bool Truncated,
    [property: JsonPropertyName("chunks")] IReadOnlyList<TokenizeChunk> Chunks);

/// <summary>One chunk: <see cref="Ids"/> and <see cref="Weights"/> are both <c>window</c> long; <see cref="TokenCount"/> counts the prompt's own tokens in it.</summary>
public sealed record TokenizeChunk(
    [property: JsonPropertyName("token_count")] int TokenCount,
    [property: JsonPropertyName("ids")] IReadOnlyList<int> Ids,
    [property: JsonPropertyName("weights")] IReadOnlyList<float> Weights);
