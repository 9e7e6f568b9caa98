using System.Globalization;
using System.Text.Json;
using DiffusionApi.Extensions;
using DiffusionApi.Model;
using DiffusionApi.Options;
using DiffusionEngine.Pipelines;

namespace DiffusionApi.Apis.Sdapi;

/// <summary>
/// Reads an A1111 body into a <see cref="GenerationSpec"/>: the values we honour are mapped to ours and checked by the
/// same <see cref="GenerationRequestValidator"/> as /v1 (its messages renamed to A1111's fields); defaults and no-op
/// values are accepted; a value that asks for something we do not do (hires fix, face restoration, scripts, styles,
/// a refiner…) is an error naming the field. Never silently dropped.
/// </summary>
public static class SdapiRequestReader
{
    /// <summary>What a read request asks for beside the spec.</summary>
    public sealed record Reading(GenerationSpec Spec, bool SendImages, bool SaveImages, int BatchSize);

    /// <summary>
    /// Reads a txt2img/img2img request against <paramref name="model"/>; every problem goes into <paramref name="errors"/>.
    /// <paramref name="settings"/> are A1111's settings with that model loaded (<see cref="SdapiCheckpoint.Settings"/>):
    /// override_settings may repeat one with its value.
    /// </summary>
    public static Reading? Read(SdapiGenerationRequest request, LimitsOptions limits, ModelInfo model, IReadOnlyDictionary<string, object?> settings,
        PromptsOptions prompts, SdapiErrors errors)
    {
        CheckUnsupported(request, errors);
        if (request is Txt2ImgRequest txt2img) CheckHiresFix(txt2img, errors);
        var images = request is Img2ImgRequest img2img ? ReadImages(img2img, errors) : null;

        // Samplers: sampler_name, else the deprecated sampler_index (as A1111's API does), else the model's own.
        string? scheduler = null;
        var samplerName = string.IsNullOrEmpty(request.SamplerName) ? request.SamplerIndex : request.SamplerName;
        if (!string.IsNullOrEmpty(samplerName))
        {
            if (SdapiSamplers.TryResolve(samplerName, request.Scheduler, out var id, out var field, out var error)) scheduler = id;
            else errors.Add(string.IsNullOrEmpty(request.SamplerName) && field == "sampler_name" ? "sampler_index" : field!, error!);
        }
        else if (request.Scheduler is { Length: > 0 } schedule && !schedule.Equals("automatic", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add("scheduler", $"scheduler '{ControlCharacters.Escape(schedule)}' needs a sampler_name; send sampler_name too, or scheduler automatic");
        }

        // override_settings: the model, clip skip and the noise source are honoured; other keys only with our value.
        var clipSkip = (int?)null;
        var rng = (string?)null;
        foreach (var (key, value) in request.OverrideSettings ?? [])
        {
            var field = "override_settings." + key;
            switch (key)
            {
                case SdapiOptions.Checkpoint:
                    // The caller chose the model by it (SdapiCheckpoint) before reading the rest against that model.
                    if (value.ValueKind != JsonValueKind.String || !NamesModel(value.GetString()!, model))
                        errors.Add(field, $"{SdapiOptions.Checkpoint} must name the model '{SdapiOptions.TitleOf(model)}' (GET /sdapi/v1/sd-models) but was {value.GetRawText()}");
                    break;
                case SdapiOptions.ClipSkip:
                    if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var skip)) clipSkip = skip;
                    else errors.Add(field, $"{SdapiOptions.ClipSkip} must be a whole number but was {value.GetRawText()}");
                    break;
                case SdapiOptions.RandnSource:
                    rng = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
                    if (rng is not ("CPU" or "NV"))
                        errors.Add(field, $"randn_source must be CPU (torch's CPU generator) or NV (A1111's Philox, as on an NVIDIA GPU) but was {value.GetRawText()}; GPU (torch on CUDA) is not reproducible here");
                    break;
                default:
                    CheckNoOp(field, key, value, settings, errors);
                    break;
            }
        }

        // seeds
        if (request.Seed is < -1) errors.Add("seed", $"seed must be -1 (random) or at least 0 but was {request.Seed}");
        if (request.Subseed is < -1) errors.Add("subseed", $"subseed must be -1 (random) or at least 0 but was {request.Subseed}");
        var strength = request.SubseedStrength ?? 0;
        if (!double.IsFinite(strength) || strength is < 0 or > 1) errors.Add("subseed_strength", $"subseed_strength must be between 0 and 1 but was {Format(strength)}");
        var resizeW = Math.Max(request.SeedResizeFromW ?? 0, 0);
        var resizeH = Math.Max(request.SeedResizeFromH ?? 0, 0);
        if (resizeW > 0 && resizeH > 0)
        {
            CheckSeedResize("seed_resize_from_w", resizeW, limits.MinWidth, limits.MaxWidth, errors);
            CheckSeedResize("seed_resize_from_h", resizeH, limits.MinHeight, limits.MaxHeight, errors);
        }
        else resizeW = resizeH = 0; // A1111: off unless both are above 0

        // batch_size × n_iter images.
        var batchSize = request.BatchSize ?? 1;
        var iterations = request.NIter ?? 1;
        if (batchSize < 1) errors.Add("batch_size", $"batch_size must be at least 1 but was {batchSize}");
        if (iterations < 1) errors.Add("n_iter", $"n_iter must be at least 1 but was {iterations}");
        var count = (long)Math.Max(batchSize, 1) * Math.Max(iterations, 1);
        if (count > limits.MaxImages)
            errors.Add("batch_size", $"batch_size × n_iter must be at most {limits.MaxImages} images (Limits:MaxImages) but was {batchSize} × {iterations} = {count}");

        var v1 = new ImageGenerationRequest
        {
            Prompt = request.Prompt,
            NegativePrompt = request.NegativePrompt,
            N = (int)Math.Clamp(count, 1, limits.MaxImages),
            Size = request.Width is null && request.Height is null ? null
                : string.Create(CultureInfo.InvariantCulture, $"{request.Width ?? GenerationDefaults.For(model).Width}x{request.Height ?? GenerationDefaults.For(model).Height}"),
            Steps = request.Steps,
            GuidanceScale = request.CfgScale ?? 7.0,
            Seed = request.Seed is >= 0 ? (ulong)request.Seed.Value : null,
            ClipSkip = clipSkip,
            Rng = rng == "NV" ? "gpu" : null,
            Image = images?.Image,
            Mask = images?.Mask,
            Strength = images?.Strength,
        };
        var spec = GenerationRequestValidator.Validate(v1, limits, model, RandomSeed, out var found, prompts);
        foreach (var (field, messages) in found)
        {
            foreach (var message in messages) errors.Add(A1111FieldOf(field, message), message);
        }
        if (spec is null || errors.Any) return null;

        var subseed = request.Subseed is >= 0 ? (ulong)request.Subseed.Value : RandomSeed() % (uint.MaxValue - (ulong)count);
        spec = spec with
        {
            Scheduler = scheduler ?? spec.Scheduler,
            Subseed = subseed,
            SubseedStrength = (float)strength,
            SeedResizeFromWidth = resizeW,
            SeedResizeFromHeight = resizeH,
            MaskBlur = images?.Mask is null ? 0 : images.MaskBlur,
        };
        if (images?.Inpainting is { } inpainting && SdapiInpainting.Apply(spec, inpainting, errors) is { } prepared) spec = prepared;
        if (errors.Any) return null;
        return new Reading(spec, request.SendImages ?? true, request.SaveImages ?? false, Math.Max(batchSize, 1));
    }

    /// <summary>Whether <paramref name="name"/> is the loaded model's name or A1111 title (case-insensitive, with or without " [hash]").</summary>
    public static bool NamesModel(string name, ModelInfo model)
    {
        var bare = name.Trim();
        var bracket = bare.IndexOf(" [", StringComparison.Ordinal);
        if (bracket > 0) bare = bare[..bracket];
        return string.Equals(bare, model.Name, StringComparison.OrdinalIgnoreCase);
    }

    private static void CheckUnsupported(SdapiGenerationRequest request, SdapiErrors errors)
    {
        if (request.RestoreFaces == true) errors.Add("restore_faces", "face restoration is not supported; send restore_faces false");
        if (request.Tiling == true) errors.Add("tiling", "tiling (seamless images) is not supported; send tiling false");
        if (!string.IsNullOrEmpty(request.ScriptName)) errors.Add("script_name", $"scripts are not supported but script_name was '{ControlCharacters.Escape(request.ScriptName)}'; send null");
        if (request.ScriptArgs is { Length: > 0 } && string.IsNullOrEmpty(request.ScriptName)) errors.Add("script_args", "script_args were sent but there is no script to pass them to; send []");
        foreach (var (name, value) in request.AlwaysonScripts ?? [])
        {
            // An entry with no arguments (what some clients send for an extension they do not use) asks for nothing.
            var empty = value.ValueKind == JsonValueKind.Object && value.TryGetProperty("args", out var args)
                && args.ValueKind == JsonValueKind.Array && args.GetArrayLength() == 0;
            if (!empty) errors.Add("alwayson_scripts." + name, $"always-on scripts (extensions) are not supported but '{ControlCharacters.Escape(name)}' was sent with arguments; send alwayson_scripts {{}}");
        }
        if (request.Styles is { Length: > 0 } styles) errors.Add("styles", $"this service has no saved styles but styles was [{string.Join(", ", styles.Select(s => $"'{ControlCharacters.Escape(s)}'"))}]; send []");
        if (request.RefinerCheckpoint is { Length: > 0 } refiner && refiner is not ("None" or "none"))
            errors.Add("refiner_checkpoint", $"a refiner model is not supported but refiner_checkpoint was '{ControlCharacters.Escape(refiner)}'");
        if (!string.IsNullOrEmpty(request.FirstpassImage)) errors.Add("firstpass_image", "firstpass_image is not supported; send null");
        if (!string.IsNullOrEmpty(request.Infotext)) errors.Add("infotext", "reading parameters from infotext is not supported; send the fields themselves");
        if (request.Comments is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } comments
            && !(comments.ValueKind == JsonValueKind.Object && !comments.EnumerateObject().Any()))
            errors.Add("comments", "comments are not supported; send null or {}");

        // Sampler fine-tuning: only the values that change nothing are accepted.
        if (request.SChurn is { } churn && churn != 0) errors.Add("s_churn", $"s_churn must be 0 (no churn) but was {Format(churn)}");
        if (request.SNoise is { } noise && noise != 1) errors.Add("s_noise", $"s_noise must be 1 but was {Format(noise)}");
        if (request.SMinUncond is { } minUncond && minUncond != 0) errors.Add("s_min_uncond", $"s_min_uncond (negative guidance minimum sigma) must be 0 but was {Format(minUncond)}");
        if (request.Eta is { } eta && eta != 1 && !(eta == 0 && IsDdim(request)))
            errors.Add("eta", $"eta must be 1 (the ancestral samplers' noise, A1111's default{(IsDdim(request) ? "; 0 for DDIM" : "")}) but was {Format(eta)}");
        if (request.DenoisingStrength is { } denoising && (!double.IsFinite(denoising) || denoising is < 0 or > 1))
            errors.Add("denoising_strength", $"denoising_strength must be between 0 and 1 but was {Format(denoising)}");
    }

    /// <summary>What an img2img body asks for beside the shared fields.</summary>
    private sealed record Img2ImgImages(string? Image, string? Mask, double Strength, int MaskBlur, SdapiInpainting.Options? Inpainting);

    /// <summary>A1111's default denoising_strength for img2img.</summary>
    public const double DefaultDenoisingStrength = 0.75;

    /// <summary>
    /// The init image, mask and their options. Mask options matter only with a mask (as in A1111, where every client
    /// sends them with their defaults). inpainting_fill 0 (fill), inpaint_full_res and inpainting_mask_invert change the
    /// images before the engine (<see cref="SdapiInpainting"/>); inpainting_fill 1–3 say what the masked latents start
    /// from (<see cref="InpaintStart"/>) before the engine noises them to the strength's level.
    /// </summary>
    private static Img2ImgImages ReadImages(Img2ImgRequest request, SdapiErrors errors)
    {
        string? image = null;
        switch (request.InitImages)
        {
            case null or []: errors.Add("init_images", "init_images is required: one image as base64 or a data URL (data:image/png;base64,…)"); break;
            case [var only]: image = only; break;
            case var many: errors.Add("init_images", $"one init image per request is supported but {many.Length} were sent; send one (several requests for several images)"); break;
        }
        var strength = request.DenoisingStrength ?? DefaultDenoisingStrength;
        switch (request.ResizeMode)
        {
            case null or 0: break;
            case 1 or 2 or 3:
                errors.Add("resize_mode", $"resize_mode {request.ResizeMode} ({ResizeModeName(request.ResizeMode.Value)}) is not supported; send 0 (just resize: the image is resized to width×height)");
                break;
            default: errors.Add("resize_mode", $"resize_mode must be 0 (just resize) but was {request.ResizeMode}"); break;
        }
        if (request.InitialNoiseMultiplier is { } multiplier && multiplier != 1)
            errors.Add("initial_noise_multiplier", $"initial_noise_multiplier must be 1 (the noise as drawn) but was {Format(multiplier)}");
        if (!string.IsNullOrEmpty(request.LatentMask)) errors.Add("latent_mask", "a separate latent_mask is not supported; send null (the mask is used for both)");

        var mask = string.IsNullOrEmpty(request.Mask) ? null : request.Mask;
        var blur = 0;
        SdapiInpainting.Options? inpainting = null;
        if (mask is not null)
        {
            // A1111: mask_blur, when sent, sets both mask_blur_x and mask_blur_y.
            if (request.MaskBlur is { } both) blur = both;
            else if (request.MaskBlurX is { } x && request.MaskBlurY is { } y && x != y)
                errors.Add("mask_blur_x", $"mask_blur_x and mask_blur_y must be equal (one Gaussian blur) but were {x} and {y}");
            else blur = request.MaskBlurX ?? request.MaskBlurY ?? 4;
            if (blur is < 0 or > 64) errors.Add(request.MaskBlur is null ? "mask_blur_x" : "mask_blur", $"mask_blur must be between 0 and 64 pixels but was {blur}");
            if (request.MaskRound == false) errors.Add("mask_round", "mask_round false (a soft inpainting mask) is not supported; send true");
            if (request.InpaintingFill is not (null or 0 or 1 or 2 or 3))
                errors.Add("inpainting_fill", $"inpainting_fill must be 0 (fill), 1 (original), 2 (latent noise) or 3 (latent nothing) but was {request.InpaintingFill}");
            if (request.InpaintFullResPadding is < 0) errors.Add("inpaint_full_res_padding", $"inpaint_full_res_padding must be at least 0 but was {request.InpaintFullResPadding}");
            if (request.InpaintingMaskInvert is not (null or 0 or 1))
                errors.Add("inpainting_mask_invert", $"inpainting_mask_invert must be 0 (repaint the white area) or 1 (repaint the black area) but was {request.InpaintingMaskInvert}");
            inpainting = new SdapiInpainting.Options(
                Invert: request.InpaintingMaskInvert == 1,
                Fill: request.InpaintingFill == 0,
                Start: request.InpaintingFill switch { 2 => InpaintStart.LatentNoise, 3 => InpaintStart.LatentNothing, _ => InpaintStart.Original },
                OnlyMasked: request.InpaintFullRes == true,
                Padding: Math.Max(request.InpaintFullResPadding ?? 0, 0));
        }
        return new Img2ImgImages(image, mask, strength, blur, inpainting);
    }

    private static string ResizeModeName(int mode) => mode switch
    {
        1 => "crop and resize",
        2 => "resize and fill",
        _ => "just resize (latent upscale)",
    };

    // s_tmin/s_tmax only matter with churn; hr_* only with enable_hr; A1111's defaults for both are sent by every client.
    private static void CheckHiresFix(Txt2ImgRequest request, SdapiErrors errors)
    {
        if (request.EnableHr == true) errors.Add("enable_hr", "the hires fix (a second, upscaled pass) is not supported; send enable_hr false and the size you want as width and height");
    }

    private static bool IsDdim(SdapiGenerationRequest request) =>
        string.Equals(request.SamplerName ?? request.SamplerIndex, "DDIM", StringComparison.OrdinalIgnoreCase);

    internal static void CheckNoOp(string field, string key, JsonElement value, IReadOnlyDictionary<string, object?> settings, SdapiErrors errors)
    {
        if (!settings.TryGetValue(key, out var ours))
        {
            errors.Add(field, $"setting '{ControlCharacters.Escape(key)}' is not one this service has (GET /sdapi/v1/options lists them)");
            return;
        }
        var same = ours switch
        {
            null => value.ValueKind == JsonValueKind.Null,
            bool flag => value.ValueKind is JsonValueKind.True or JsonValueKind.False && value.GetBoolean() == flag,
            int number => value.ValueKind == JsonValueKind.Number && value.GetDouble() == number,
            double number => value.ValueKind == JsonValueKind.Number && value.GetDouble() == number,
            string text => value.ValueKind == JsonValueKind.String && string.Equals(value.GetString(), text, StringComparison.OrdinalIgnoreCase),
            _ => false,
        };
        if (!same) errors.Add(field, $"setting '{ControlCharacters.Escape(key)}' cannot be changed here; it is {JsonSerializer.Serialize(ours)} but was {value.GetRawText()}");
    }

    private static void CheckSeedResize(string field, int value, int min, int max, SdapiErrors errors)
    {
        if (value % 8 != 0) errors.Add(field, $"{field} must be a multiple of 8 but was {value}");
        else if (value < min || value > max) errors.Add(field, $"{field} must be between {min} and {max} but was {value}");
    }

    // Our validator's fields by their A1111 names.
    private static string A1111FieldOf(string field, string message) => field switch
    {
        "n" => "batch_size",
        "size" => message.StartsWith("height", StringComparison.Ordinal) ? "height" : "width",
        "guidance_scale" => "cfg_scale",
        "scheduler" => "sampler_name",
        "clip_skip" => "override_settings." + SdapiOptions.ClipSkip,
        "model" => "override_settings." + SdapiOptions.Checkpoint,
        "rng" => "override_settings." + SdapiOptions.RandnSource,
        "image" => "init_images",
        "strength" => "denoising_strength",
        _ => field,
    };

    private static ulong RandomSeed() => (ulong)Random.Shared.NextInt64(0, uint.MaxValue);

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
