using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffusionApi.Apis.Sdapi;

/// <summary>The body of A1111's <c>POST /sdapi/v1/txt2img</c>: the shared fields plus the hires fix's, inert while enable_hr is false.</summary>
public sealed record Txt2ImgRequest : SdapiGenerationRequest
{
    // txt2img's hires fix: inert while enable_hr is false, which is all we do.
    [JsonPropertyName("enable_hr")] public bool? EnableHr { get; init; }
    [JsonPropertyName("firstphase_width")] public int? FirstphaseWidth { get; init; }
    [JsonPropertyName("firstphase_height")] public int? FirstphaseHeight { get; init; }
    [JsonPropertyName("hr_scale")] public double? HrScale { get; init; }
    [JsonPropertyName("hr_upscaler")] public string? HrUpscaler { get; init; }
    [JsonPropertyName("hr_second_pass_steps")] public int? HrSecondPassSteps { get; init; }
    [JsonPropertyName("hr_resize_x")] public int? HrResizeX { get; init; }
    [JsonPropertyName("hr_resize_y")] public int? HrResizeY { get; init; }
    [JsonPropertyName("hr_checkpoint_name")] public string? HrCheckpointName { get; init; }
    [JsonPropertyName("hr_sampler_name")] public string? HrSamplerName { get; init; }
    [JsonPropertyName("hr_scheduler")] public string? HrScheduler { get; init; }
    [JsonPropertyName("hr_prompt")] public string? HrPrompt { get; init; }
    [JsonPropertyName("hr_negative_prompt")] public string? HrNegativePrompt { get; init; }
    [JsonPropertyName("hr_additional_modules")] public JsonElement[]? HrAdditionalModules { get; init; }
}
