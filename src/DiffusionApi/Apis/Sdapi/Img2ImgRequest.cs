using System.Text.Json.Serialization;

namespace DiffusionApi.Apis.Sdapi;

/// <summary>
/// The body of A1111's <c>POST /sdapi/v1/img2img</c> (modules/api/models.py: StableDiffusionProcessingImg2Img's
/// arguments plus the API's include_init_images): the shared fields plus the init image, mask and their options.
/// <see cref="SdapiRequestReader"/> honours init_images (one), denoising_strength, mask, mask_blur, resize_mode 0,
/// inpainting_fill 0–3, inpaint_full_res with its padding, inpainting_mask_invert and
/// include_init_images; other values of the rest are a 422.
/// </summary>
public sealed record Img2ImgRequest : SdapiGenerationRequest
{
    /// <summary>The init images as base64 or data URLs; we take one.</summary>
    [JsonPropertyName("init_images")] public string[]? InitImages { get; init; }

    /// <summary>0 just resize (the only one we do), 1 crop and resize, 2 resize and fill, 3 just resize (latent upscale).</summary>
    [JsonPropertyName("resize_mode")] public int? ResizeMode { get; init; }

    /// <summary>Instruct-pix2pix's image guidance; unused by every other model, as in A1111.</summary>
    [JsonPropertyName("image_cfg_scale")] public double? ImageCfgScale { get; init; }

    [JsonPropertyName("mask")] public string? Mask { get; init; }
    [JsonPropertyName("mask_blur_x")] public int? MaskBlurX { get; init; }
    [JsonPropertyName("mask_blur_y")] public int? MaskBlurY { get; init; }
    [JsonPropertyName("mask_blur")] public int? MaskBlur { get; init; }
    [JsonPropertyName("mask_round")] public bool? MaskRound { get; init; }

    /// <summary>0 fill, 1 original, 2 latent noise, 3 latent nothing: what the masked area starts from.</summary>
    [JsonPropertyName("inpainting_fill")] public int? InpaintingFill { get; init; }

    /// <summary>A1111's "only masked": inpaint a crop around the mask at full resolution.</summary>
    [JsonPropertyName("inpaint_full_res")] public bool? InpaintFullRes { get; init; }
    [JsonPropertyName("inpaint_full_res_padding")] public int? InpaintFullResPadding { get; init; }

    /// <summary>0 repaint the mask's white area, 1 its black area.</summary>
    [JsonPropertyName("inpainting_mask_invert")] public int? InpaintingMaskInvert { get; init; }
    [JsonPropertyName("initial_noise_multiplier")] public double? InitialNoiseMultiplier { get; init; }
    [JsonPropertyName("latent_mask")] public string? LatentMask { get; init; }

    /// <summary>Whether the answer's parameters echo init_images and mask (A1111 drops them by default).</summary>
    [JsonPropertyName("include_init_images")] public bool? IncludeInitImages { get; init; }
}
