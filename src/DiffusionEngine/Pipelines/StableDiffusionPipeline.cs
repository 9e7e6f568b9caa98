using DiffusionEngine.Pipelines.Steps;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Pipelines;

/// <summary>
/// Stable Diffusion 1.x/2.x, step for step as diffusers' <c>StableDiffusionPipeline</c>,
/// <c>StableDiffusionImg2ImgPipeline</c> and <c>StableDiffusionInpaintPipeline</c> (with a 9-channel inpainting UNet,
/// or the legacy latent blending with any other): 1. check inputs, 2. encode the prompts with the CLIP text encoder,
/// 3. prepare timesteps, 4. prepare latents, 5. denoise with classifier-free guidance, 6. decode with the VAE,
/// 7. convert to pixels. Also runs SD-Turbo, whose only difference is its defaults (1 step, guidance 0).
/// </summary>
internal sealed class StableDiffusionPipeline(ModelComponents model) : IDiffusionPipeline
{
    public IReadOnlyList<GeneratedImage> Generate(PreparedBatch batch, RunOptions runOptions, IProgress<StepProgress>? progress, CancellationToken cancellationToken)
    {
        // 2. Encode the prompts once per generation, chunk by chunk: rows [negative_0..n-1 ; prompt_0..n-1] (prompts only without the unconditional pass).
        using var conditioning = DenoiseAndDecode.EncodePrompts(batch,
            () => ClipPromptEncoder.Encode(model, batch, runOptions));

        // 3–7.
        return DenoiseAndDecode.Run(model, batch, conditioning, runOptions, progress, cancellationToken);
    }
}
