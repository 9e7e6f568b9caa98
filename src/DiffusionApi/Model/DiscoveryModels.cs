using System.Text.Json.Serialization;

namespace DiffusionApi.Model;

/// <summary>GET /v1/models, in the OpenAI list shape.</summary>
public sealed record ModelList(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] IReadOnlyList<ModelEntry> Data);

public sealed record ModelEntry(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy,
    [property: JsonPropertyName("default_scheduler")] string DefaultScheduler,
    [property: JsonPropertyName("execution_provider")] string ExecutionProvider,
    [property: JsonPropertyName("max_prompt_tokens")] int MaxPromptTokens,
    [property: JsonPropertyName("defaults")] ModelDefaults Defaults);

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
public sealed record TokenizeRequest([property: JsonPropertyName("prompt")] string? Prompt);

/// <summary>The prompt's token ids (with BOS and EOS, after truncation) against the model's token window.</summary>
public sealed record TokenizeResponse(
    [property: JsonPropertyName("ids")] IReadOnlyList<int> Ids,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("limit")] int Limit,
    [property: JsonPropertyName("truncated")] bool Truncated,
    [property: JsonPropertyName("untruncated_count")] int UntruncatedCount);
