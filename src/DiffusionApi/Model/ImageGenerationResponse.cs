using System.Text.Json.Serialization;

namespace DiffusionApi.Model;

/// <summary>The OpenAI Images API response, with each image's seed.</summary>
public sealed record ImageGenerationResponse(
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("data")] IReadOnlyList<ImageData> Data);

/// <summary>One generated image: inline base64 or a URL to GET /v1/images/{id}, and the seed that made it.</summary>
public sealed record ImageData
{
    [JsonPropertyName("b64_json")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? B64Json { get; init; }

    [JsonPropertyName("url")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Url { get; init; }

    [JsonPropertyName("revised_prompt")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RevisedPrompt { get; init; }

    [JsonPropertyName("seed")]
    public ulong Seed { get; init; }
}
