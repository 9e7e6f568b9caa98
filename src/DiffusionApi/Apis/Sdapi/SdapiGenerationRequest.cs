using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffusionApi.Apis.Sdapi;

/// <summary>
/// The fields A1111's txt2img and img2img bodies share (modules/api/models.py: StableDiffusionProcessing's arguments
/// plus the API's own), every one as A1111 clients send it: most send all of them with their defaults.
/// <see cref="SdapiRequestReader"/> decides which values we honour, which are no-ops, and which are a 422. A field not
/// declared is a 422 naming it.
/// </summary>
public abstract record SdapiGenerationRequest
{
    [JsonPropertyName("prompt")] public string? Prompt { get; init; }
    [JsonPropertyName("negative_prompt")] public string? NegativePrompt { get; init; }
    [JsonPropertyName("styles")] public string[]? Styles { get; init; }
    [JsonPropertyName("seed")] public long? Seed { get; init; }
    [JsonPropertyName("subseed")] public long? Subseed { get; init; }
    [JsonPropertyName("subseed_strength")] public double? SubseedStrength { get; init; }
    [JsonPropertyName("seed_resize_from_h")] public int? SeedResizeFromH { get; init; }
    [JsonPropertyName("seed_resize_from_w")] public int? SeedResizeFromW { get; init; }
    [JsonPropertyName("sampler_name")] public string? SamplerName { get; init; }
    [JsonPropertyName("scheduler")] public string? Scheduler { get; init; }
    [JsonPropertyName("batch_size")] public int? BatchSize { get; init; }
    [JsonPropertyName("n_iter")] public int? NIter { get; init; }
    [JsonPropertyName("steps")] public int? Steps { get; init; }
    [JsonPropertyName("cfg_scale")] public double? CfgScale { get; init; }
    [JsonPropertyName("width")] public int? Width { get; init; }
    [JsonPropertyName("height")] public int? Height { get; init; }
    [JsonPropertyName("restore_faces")] public bool? RestoreFaces { get; init; }
    [JsonPropertyName("tiling")] public bool? Tiling { get; init; }
    [JsonPropertyName("do_not_save_samples")] public bool? DoNotSaveSamples { get; init; }
    [JsonPropertyName("do_not_save_grid")] public bool? DoNotSaveGrid { get; init; }
    [JsonPropertyName("eta")] public double? Eta { get; init; }
    [JsonPropertyName("denoising_strength")] public double? DenoisingStrength { get; init; }
    [JsonPropertyName("s_min_uncond")] public double? SMinUncond { get; init; }
    [JsonPropertyName("s_churn")] public double? SChurn { get; init; }
    [JsonPropertyName("s_tmax")] public double? STmax { get; init; }
    [JsonPropertyName("s_tmin")] public double? STmin { get; init; }
    [JsonPropertyName("s_noise")] public double? SNoise { get; init; }
    [JsonPropertyName("override_settings")] public Dictionary<string, JsonElement>? OverrideSettings { get; init; }
    [JsonPropertyName("override_settings_restore_afterwards")] public bool? OverrideSettingsRestoreAfterwards { get; init; }
    [JsonPropertyName("refiner_checkpoint")] public string? RefinerCheckpoint { get; init; }
    [JsonPropertyName("refiner_switch_at")] public double? RefinerSwitchAt { get; init; }
    [JsonPropertyName("disable_extra_networks")] public bool? DisableExtraNetworks { get; init; }
    [JsonPropertyName("firstpass_image")] public string? FirstpassImage { get; init; }
    [JsonPropertyName("comments")] public JsonElement? Comments { get; init; }
    [JsonPropertyName("sampler_index")] public string? SamplerIndex { get; init; }
    [JsonPropertyName("script_name")] public string? ScriptName { get; init; }
    [JsonPropertyName("script_args")] public JsonElement[]? ScriptArgs { get; init; }
    [JsonPropertyName("send_images")] public bool? SendImages { get; init; }
    [JsonPropertyName("save_images")] public bool? SaveImages { get; init; }
    [JsonPropertyName("alwayson_scripts")] public Dictionary<string, JsonElement>? AlwaysonScripts { get; init; }
    [JsonPropertyName("force_task_id")] public string? ForceTaskId { get; init; }
    [JsonPropertyName("infotext")] public string? Infotext { get; init; }
}
