using DiffusionEngine.Pipelines;
using DiffusionEngine.Schedulers;

namespace DiffusionEngine.Models;

/// <summary>The UNet's inputs that decide a model's kind (from the ONNX file's metadata, or unet/config.json where a shape is dynamic).</summary>
/// <param name="InChannels">Channels of <c>sample</c>: 4, or 9 for an inpainting UNet; null when neither the file nor the config says.</param>
/// <param name="HasTextEmbeds">The UNet takes <c>text_embeds</c> (SDXL's pooled text embedding).</param>
/// <param name="HasTimeIds">The UNet takes <c>time_ids</c> (SDXL's size and crop conditioning).</param>
/// <param name="HasTimestepCond">The UNet takes <c>timestep_cond</c> (an LCM's guidance-scale embedding).</param>
public sealed record UNetSignature(int? InChannels, bool HasTextEmbeds, bool HasTimeIds, bool HasTimestepCond);

/// <summary>
/// Chooses a model's <see cref="ModelKind"/> from model_index.json's <c>_class_name</c> and the UNet's inputs, the way
/// diffusers' <c>DiffusionPipeline.from_pretrained</c> picks a pipeline class, with the UNet's I/O as the ground truth:
/// 9 input channels ⇒ an inpainting UNet, <c>text_embeds</c> + <c>time_ids</c> ⇒ SDXL, <c>timestep_cond</c> ⇒ LCM.
/// Turbo models (SD-Turbo, SDXL-Turbo) have the class and UNet of their base and are told apart by their scheduler
/// config: an Euler scheduler with <c>timestep_spacing</c> "trailing" (sd-turbo's and sdxl-turbo's scheduler_config.json).
/// A folder the engine cannot serve fails with a message naming the class or input and what is supported.
/// </summary>
public static class ModelKindDetector
{
    /// <summary>The diffusers pipeline class names (without an Onnx/ORT/Flax prefix) whose models the engine serves.</summary>
    public static IReadOnlyList<string> SupportedClassNames { get; } =
    [
        "StableDiffusionPipeline", "StableDiffusionImg2ImgPipeline", "StableDiffusionInpaintPipeline", "StableDiffusionInpaintPipelineLegacy",
        "StableDiffusionXLPipeline", "StableDiffusionXLImg2ImgPipeline", "StableDiffusionXLInpaintPipeline",
        "LatentConsistencyModelPipeline", "LatentConsistencyModelImg2ImgPipeline",
    ];

    // Prefixes of the ONNX pipeline classes: diffusers' Onnx* (OnnxStableDiffusionPipeline), Optimum's ORT*
    // (ORTStableDiffusionXLPipeline), and Flax* in early SD model indexes.
    private static readonly string[] ClassPrefixes = ["Onnx", "ORT", "Flax"];

    /// <summary>Detects the kind, or throws naming what does not fit.</summary>
    /// <param name="pipelineClassName">model_index.json's <c>_class_name</c>; null lets the UNet decide alone.</param>
    /// <param name="unet">The UNet's inputs.</param>
    /// <param name="scheduler">scheduler_config.json (for Turbo).</param>
    /// <param name="modelIndexPath">Named in errors about the class.</param>
    /// <param name="unetPath">Named in errors about the UNet's inputs.</param>
    /// <exception cref="ModelLoadException">The class is not a supported pipeline, the UNet's inputs fit no supported kind, or they contradict the class.</exception>
    public static ModelKind Detect(string? pipelineClassName, UNetSignature unet, SchedulerConfig scheduler, string modelIndexPath, string unetPath)
    {
        ArgumentNullException.ThrowIfNull(unet);
        ArgumentNullException.ThrowIfNull(scheduler);
        var className = pipelineClassName is null ? null : WithoutPrefix(pipelineClassName);
        if (className is not null && !SupportedClassNames.Contains(className))
        {
            throw new ModelLoadException(modelIndexPath,
                $"_class_name '{pipelineClassName}' is not a pipeline this engine serves; supported: {string.Join(", ", SupportedClassNames)} " +
                "(and their Onnx*/ORT* forms)");
        }

        if (unet.InChannels is { } channels && channels is not (4 or 9))
        {
            throw new ModelLoadException(unetPath,
                $"unet input 'sample' has {channels} channels, which is not supported; supported: 4 (text-to-image UNet) or 9 (inpainting UNet: latents ‖ mask ‖ masked-image latents)");
        }
        if (unet.HasTextEmbeds != unet.HasTimeIds)
        {
            var (has, lacks) = unet.HasTextEmbeds ? ("text_embeds", "time_ids") : ("time_ids", "text_embeds");
            throw new ModelLoadException(unetPath, $"the unet model has an input '{has}' but no '{lacks}'; an SDXL UNet takes both (supported: neither, or both)");
        }

        var xl = unet.HasTextEmbeds;
        var inpainting = unet.InChannels == 9;
        var consistency = unet.HasTimestepCond || className is "LatentConsistencyModelPipeline" or "LatentConsistencyModelImg2ImgPipeline";
        var classIsXL = className?.StartsWith("StableDiffusionXL", StringComparison.Ordinal) == true;
        if (className is not null && classIsXL != xl && !className.StartsWith("LatentConsistency", StringComparison.Ordinal))
        {
            throw new ModelLoadException(unetPath, xl
                ? $"the unet takes 'text_embeds' and 'time_ids' (an SDXL UNet) but model_index.json names {pipelineClassName}, an SD 1.x/2.x pipeline"
                : $"model_index.json names {pipelineClassName}, an SDXL pipeline, but the unet has no 'text_embeds' and 'time_ids' inputs (supported SDXL UNets take both)");
        }
        if (consistency && inpainting)
        {
            throw new ModelLoadException(unetPath, "a latent consistency (LCM) UNet with 9 input channels (inpainting) is not supported; supported: 4-channel LCM UNets");
        }

        if (consistency) return xl ? ModelKind.LatentConsistencyXL : ModelKind.LatentConsistency;
        if (inpainting) return xl ? ModelKind.StableDiffusionXLInpaint : ModelKind.StableDiffusionInpaint;
        if (IsTurboScheduler(scheduler)) return xl ? ModelKind.SdxlTurbo : ModelKind.SdTurbo;
        return xl ? ModelKind.StableDiffusionXL : ModelKind.StableDiffusion;
    }

    /// <summary>The class name without its Onnx/ORT/Flax prefix ("ORTStableDiffusionXLPipeline" → "StableDiffusionXLPipeline").</summary>
    public static string WithoutPrefix(string className)
    {
        foreach (var prefix in ClassPrefixes)
        {
            if (className.Length > prefix.Length && className.StartsWith(prefix, StringComparison.Ordinal) && char.IsUpper(className[prefix.Length]))
                return className[prefix.Length..];
        }
        return className;
    }

    /// <summary>SD-Turbo and SDXL-Turbo ship an Euler (ancestral) scheduler with trailing timestep spacing, which their base models do not.</summary>
    private static bool IsTurboScheduler(SchedulerConfig scheduler)
    {
        var className = scheduler.ClassName is null ? null : SchedulerFactory.WithoutFlaxPrefix(scheduler.ClassName);
        if (className is not (EulerDiscreteScheduler.ClassName or EulerAncestralDiscreteScheduler.ClassName)) return false;
        return scheduler.TryGetValue("timestep_spacing", out var spacing)
            && spacing.ValueKind == System.Text.Json.JsonValueKind.String
            && spacing.GetString() == "trailing";
    }
}
