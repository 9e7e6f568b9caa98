using DiffusionApi.Extensions;

namespace DiffusionApi.Model;

/// <summary>
/// The /v1 surface's answer to fields its bodies do not declare: what A1111 (<c>/sdapi/v1/txt2img</c>), ComfyUI,
/// diffusers and OpenAI call our fields, and the OpenAI and A1111 fields this surface cannot honour. Every endpoint of
/// the surface carries it (<see cref="JsonRequestBodyExtensions.WithJsonBody"/>); an unknown field is always a
/// 400, this table only makes its message say what to send instead.
/// </summary>
public static class V1FieldAdvice
{
    public static JsonFieldAdvice Table { get; } = new JsonFieldAdvice()
        .UseInstead("prompt", null, "text", "input", "positive_prompt")
        .UseInstead("negative_prompt", null, "negative", "negativePrompt", "negative-prompt", "neg_prompt", "negative_text", "uc")
        .UseInstead("size", "\"WIDTHxHEIGHT\", e.g. \"768x512\"", "width", "height", "resolution", "dimensions")
        .UseInstead("steps", null, "num_inference_steps", "sampling_steps", "num_steps", "step", "n_steps")
        .UseInstead("guidance_scale", null, "cfg_scale", "cfg", "guidance", "scale", "cfgScale")
        .UseInstead("scheduler", "an id from GET /v1/schedulers", "sampler_name", "sampler", "sampler_index", "scheduler_name", "sampler_id")
        .UseInstead("seed", null, "noise_seed", "manual_seed", "random_seed")
        .UseInstead("n", null, "batch_size", "num_images", "num_images_per_prompt", "n_iter", "count", "num_outputs")
        .UseInstead("output_format", null, "format", "image_format", "file_format", "output_type")
        .UseInstead("output_compression", null, "jpeg_quality", "webp_quality", "compression")
        .UseInstead("response_format", null, "response_type")
        .UseInstead("image", "one image as base64 or a data URL", "init_image", "init_images", "images", "input_image", "source_image")
        .UseInstead("mask", "base64 or a data URL; white repaints", "mask_image", "mask_images", "inpaint_mask")
        .UseInstead("strength", "greater than 0 and at most 1", "denoising_strength", "denoise", "image_strength", "prompt_strength")
        .UseInstead("clip_skip", "A1111's numbering: 1 = the model's own layer; ComfyUI's stop_at_clip_layer -N is clip_skip N", "CLIP_stop_at_last_layers", "clipskip", "stop_at_clip_layer")
        .UseInstead("prompt_syntax", "a1111 or plain", "syntax", "prompt_parser")
        .UseInstead("emphasis", "original, no_norm, ignore or comfy", "emphasis_mode", "weight_interpretation")
        .NotSupported("style", "DALL·E 3's vivid/natural styles have no Stable Diffusion equivalent; describe the style in the prompt")
        .NotSupported("subseed", "variation seeds are not supported")
        .NotSupported("subseed_strength", "variation seeds are not supported")
        .NotSupported("enable_hr", "hires fix is not supported; ask for the size you want")
        .NotSupported("restore_faces", "face restoration is not supported")
        .NotSupported("tiling", "tiling is not supported")
        .NotSupported("override_settings", "server settings cannot be changed per request");
}
