using DiffusionEngine.Pipelines.Steps;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Pipelines;

/// <summary>
/// SDXL, as diffusers' <c>StableDiffusionXLPipeline</c>, <c>StableDiffusionXLImg2ImgPipeline</c> and
/// <c>StableDiffusionXLInpaintPipeline</c>: the steps of <see cref="StableDiffusionPipeline"/>, with step 2 encoding each
/// prompt through both text encoders (<see cref="SdxlPromptEncoder"/>: penultimate hidden states concatenated, pooled
/// text_embeds, time_ids, zeroed empty negatives) and the UNet taking text_embeds and time_ids besides the hidden states.
/// The VAE's scaling factor comes from its config (0.13025 for SDXL); a VAE that overflows to NaN fails the batch with
/// the fix named. Also runs SDXL-Turbo (1 step, guidance 0 by default).
/// </summary>
internal sealed class StableDiffusionXLPipeline(ModelComponents model) : IDiffusionPipeline
{
    public IReadOnlyList<GeneratedImage> Generate(PreparedBatch batch, RunOptions runOptions, IProgress<StepProgress>? progress, CancellationToken cancellationToken)
    {
        // 2. Encode the prompts with both encoders; add the pooled text embeddings and the size conditioning.
        using var conditioning = DenoiseAndDecode.EncodePrompts(batch,
            () => SdxlPromptEncoder.Encode(model, batch, runOptions));

        // 3–7.
        return DenoiseAndDecode.Run(model, batch, conditioning, runOptions, progress, cancellationToken);
    }
}
