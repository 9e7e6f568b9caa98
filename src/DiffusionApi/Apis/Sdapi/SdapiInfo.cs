using System.Text.Json;
using System.Text.Json.Serialization;
using DiffusionApi.Model;
using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;

namespace DiffusionApi.Apis.Sdapi;

/// <summary>
/// A1111's <c>info</c>: <c>Processed.js()</c>, a JSON object serialised into a string, with the same keys (seed,
/// all_seeds, all_subseeds, infotexts, sampler_name, …). The infotexts are the ones written into the PNGs.
/// </summary>
public static class SdapiInfo
{
    public static string Create(GenerationSpec spec, ModelInfo model, int batchSize, string jobTimestamp, double? denoisingStrength)
    {
        var requests = spec.ToEngineRequests();
        var schedulerId = spec.Scheduler ?? model.DefaultScheduler;
        var sampler = DiffusionEngine.Schedulers.SchedulerFactory.DisplayNameOf(schedulerId);
        var infotexts = requests.Select(r => InfoText.Format(r, sampler, model.Name)).ToArray();
        var info = new Dictionary<string, object?>
        {
            ["prompt"] = spec.Prompt,
            ["all_prompts"] = Enumerable.Repeat(spec.Prompt, spec.Count).ToArray(),
            ["negative_prompt"] = spec.NegativePrompt,
            ["all_negative_prompts"] = Enumerable.Repeat(spec.NegativePrompt, spec.Count).ToArray(),
            ["seed"] = spec.Seed,
            ["all_seeds"] = requests.Select(r => r.Seed).ToArray(),
            ["subseed"] = spec.Subseed,
            ["all_subseeds"] = requests.Select(r => r.Subseed).ToArray(),
            ["subseed_strength"] = spec.SubseedStrength,
            ["width"] = spec.Width,
            ["height"] = spec.Height,
            ["sampler_name"] = SdapiSamplers.SamplerNameOf(schedulerId),
            ["cfg_scale"] = spec.GuidanceScale,
            ["steps"] = spec.Steps,
            ["batch_size"] = batchSize,
            ["restore_faces"] = false,
            ["face_restoration_model"] = null,
            ["sd_model_name"] = model.Name,
            ["sd_model_hash"] = null,
            ["sd_vae_name"] = null,
            ["sd_vae_hash"] = null,
            ["seed_resize_from_w"] = spec.SeedResizeFromWidth > 0 ? spec.SeedResizeFromWidth : -1,
            ["seed_resize_from_h"] = spec.SeedResizeFromHeight > 0 ? spec.SeedResizeFromHeight : -1,
            ["denoising_strength"] = denoisingStrength,
            ["extra_generation_params"] = new Dictionary<string, object> { ["Schedule type"] = SdapiSamplers.ScheduleOf(schedulerId) },
            ["index_of_first_image"] = 0,
            ["infotexts"] = infotexts,
            ["styles"] = Array.Empty<string>(),
            ["job_timestamp"] = jobTimestamp,
            ["clip_skip"] = spec.ClipSkip,
            ["is_using_inpainting_conditioning"] = model.Kind.IsInpaintingUNet(),
            ["version"] = "DiffusionService",
        };
        return JsonSerializer.Serialize(info, Options);
    }

    /// <summary>A1111's job timestamp: the time the job started, as yyyyMMddHHmmss.</summary>
    public static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);

    private static readonly JsonSerializerOptions Options = new() { DefaultIgnoreCondition = JsonIgnoreCondition.Never };
}
