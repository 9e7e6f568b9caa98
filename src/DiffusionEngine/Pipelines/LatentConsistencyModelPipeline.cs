using System.Buffers;
using DiffusionEngine.Pipelines.Steps;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Pipelines;

/// <summary>
/// A latent consistency model, as diffusers' <c>LatentConsistencyModelPipeline</c>: step 2 encodes the prompts only (no
/// negative prompt, no unconditional pass: <see cref="BatchKey.UnconditionalPass"/> is always false for LCM), and the
/// guidance scale enters the UNet as <c>timestep_cond</c>, its guidance-scale embedding
/// (<see cref="GuidanceScaleEmbedding"/>, width <c>time_cond_proj_dim</c>), one row per image. An SDXL-based LCM
/// encodes with both text encoders as <see cref="StableDiffusionXLPipeline"/> does. The model's scheduler is normally
/// LCMScheduler (4 steps by default).
/// </summary>
internal sealed class LatentConsistencyModelPipeline(ModelComponents model) : IDiffusionPipeline
{
    public IReadOnlyList<GeneratedImage> Generate(PreparedBatch batch, RunOptions runOptions, IProgress<StepProgress>? progress, CancellationToken cancellationToken)
    {
        // 2. Encode the prompts (prompt rows only), then each image's guidance-scale embedding w = guidance − 1.
        using var conditioning = DenoiseAndDecode.EncodePrompts(batch, () => model.Kind.IsXL()
            ? SdxlPromptEncoder.Encode(model, batch, runOptions)
            : ClipPromptEncoder.Encode(model, batch, runOptions));
        if (model.UNet.TimestepCond is not null)
        {
            var width = model.TimestepCondWidth;
            conditioning.TimestepCond = ArrayPool<float>.Shared.Rent(batch.Count * width);
            conditioning.TimestepCondSize = width;
            for (var i = 0; i < batch.Count; i++)
                GuidanceScaleEmbedding.Fill(batch.Requests[i].GuidanceScale, conditioning.TimestepCond.AsSpan(i * width, width));
        }

        // 3–7, without the unconditional pass.
        return DenoiseAndDecode.Run(model, batch, conditioning, runOptions, progress, cancellationToken);
    }
}
