using DiffusionEngine.Pipelines;

namespace DiffusionApi.Apis.Sdapi;

/// <summary>
/// The A1111 settings (<c>GET /sdapi/v1/options</c>) this service has an answer for: what is loaded and how it
/// generates. override_settings and <c>POST /options</c> may change the ones marked below per request; any other key
/// may only be sent with the value shown here (a no-op), anything else is a 422 naming it.
/// </summary>
public static class SdapiOptions
{
    public const string Checkpoint = "sd_model_checkpoint";
    public const string ClipSkip = "CLIP_stop_at_last_layers";
    public const string RandnSource = "randn_source";

    /// <summary>The A1111 title of a model: A1111 writes "file [hash]"; ours have no file hash, so the name alone.</summary>
    public static string TitleOf(ModelInfo model) => model.Name;

    /// <param name="model">The loaded checkpoint.</param>
    /// <param name="checkpointsLimit">Models loaded at once (A1111's sd_checkpoints_limit): Diffusion:Models:MaxLoaded.</param>
    public static Dictionary<string, object?> Current(ModelInfo model, int checkpointsLimit) => new(StringComparer.Ordinal)
    {
        [Checkpoint] = TitleOf(model),
        ["sd_checkpoint_hash"] = null,
        [ClipSkip] = 1,
        [RandnSource] = "CPU",
        ["sd_vae"] = "Automatic",
        ["samples_format"] = "png",
        ["samples_save"] = false,
        ["grid_save"] = false,
        ["emphasis"] = "Original",
        ["eta_ancestral"] = 1.0,
        ["eta_ddim"] = 0.0,
        ["eta_noise_seed_delta"] = 0,
        ["s_churn"] = 0.0,
        ["s_min_uncond"] = 0.0,
        ["s_noise"] = 1.0,
        ["s_tmin"] = 0.0,
        ["s_tmax"] = 0.0,
        ["face_restoration"] = false,
        ["tiling"] = false,
        ["live_previews_enable"] = true,
        ["show_progress_type"] = "Approx cheap",
        ["show_progress_every_n_steps"] = 1,
        ["live_preview_content"] = "Prompt",
        ["enable_pnginfo"] = true,
        ["add_model_name_to_info"] = true,
        ["add_model_hash_to_info"] = false,
        ["sd_checkpoints_limit"] = checkpointsLimit,
    };
}
