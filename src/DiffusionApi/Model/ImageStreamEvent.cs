using System.Text.Json.Serialization;

namespace DiffusionApi.Model;

/// <summary>
/// One Server-Sent Event of OpenAI's image streaming (<c>stream: true</c>): <c>image_generation.partial_image</c> (or
/// <c>image_edit.partial_image</c>) with <c>partial_image_index</c>, then one <c>…completed</c> per image, each with
/// <c>b64_json</c>, <c>created_at</c>, <c>size</c>, <c>quality</c>, <c>background</c>, <c>output_format</c>; completed
/// events add <c>usage</c> (tokens do not apply here: zeros) and our <c>seed</c>. A failure after the stream began is an
/// <c>error</c> event with <c>error.message</c>. The SSE event name equals <c>type</c>.
/// </summary>
public sealed record ImageStreamEvent
{
    [JsonPropertyName("type")] public required string Type { get; init; }

    [JsonPropertyName("b64_json")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? B64Json { get; init; }

    [JsonPropertyName("created_at")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? CreatedAt { get; init; }

    [JsonPropertyName("size")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Size { get; init; }

    [JsonPropertyName("quality")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Quality { get; init; }

    [JsonPropertyName("background")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Background { get; init; }

    [JsonPropertyName("output_format")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? OutputFormat { get; init; }

    [JsonPropertyName("partial_image_index")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? PartialImageIndex { get; init; }

    [JsonPropertyName("usage")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ImageStreamUsage? Usage { get; init; }

    /// <summary>Our extension, as on every image we return.</summary>
    [JsonPropertyName("seed")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ulong? Seed { get; init; }

    [JsonPropertyName("error")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ImageStreamError? Error { get; init; }
}

/// <summary>OpenAI's token usage of a GPT image model; a diffusion model reads no tokens this way, so every count is 0.</summary>
public sealed record ImageStreamUsage(
    [property: JsonPropertyName("total_tokens")] int TotalTokens,
    [property: JsonPropertyName("input_tokens")] int InputTokens,
    [property: JsonPropertyName("output_tokens")] int OutputTokens);

public sealed record ImageStreamError(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type);
