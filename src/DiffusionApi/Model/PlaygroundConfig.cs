using System.Text.Json.Serialization;

namespace DiffusionApi.Model;

/// <summary>
/// GET /playground/config: what the playground page needs before it may call /v1 — whether it must ask for an API key
/// (answered without one, so the page can learn it) and the request limits for its inputs. Each model's defaults come
/// with it from GET /v1/models.
/// </summary>
public sealed record PlaygroundConfig(
    [property: JsonPropertyName("api_key_required")] bool ApiKeyRequired,
    [property: JsonPropertyName("limits")] PlaygroundLimits Limits);

/// <summary>Diffusion:Limits as the page's inputs use them (hints only: the service still validates every request).</summary>
public sealed record PlaygroundLimits(
    [property: JsonPropertyName("min_width")] int MinWidth,
    [property: JsonPropertyName("max_width")] int MaxWidth,
    [property: JsonPropertyName("min_height")] int MinHeight,
    [property: JsonPropertyName("max_height")] int MaxHeight,
    [property: JsonPropertyName("max_pixels")] long MaxPixels,
    [property: JsonPropertyName("min_steps")] int MinSteps,
    [property: JsonPropertyName("max_steps")] int MaxSteps,
    [property: JsonPropertyName("max_images")] int MaxImages,
    [property: JsonPropertyName("min_guidance")] double MinGuidance,
    [property: JsonPropertyName("max_guidance")] double MaxGuidance);
