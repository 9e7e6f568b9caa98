using System.Diagnostics;
using System.Numerics.Tensors;
using DiffusionEngine.Runtime;
using DiffusionEngine.Schedulers;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Pipelines.Steps;

/// <summary>
/// Step 5, the denoising loop, shared by every pipeline: from the batch's first step to the end of the schedule,
/// <list type="number">
/// <item>scale_model_input per image into the UNet input, copied to the unconditional row too with guidance; a
/// 9-channel inpainting UNet's mask and masked-image latents sit in the same rows (written once, before the loop);</item>
/// <item>the guided UNet step: one UNet run over the whole batch, then per image <c>noise = u + s·(c − u)</c>
/// (classifier-free guidance, in place in the cond half, skipped without the unconditional pass);</item>
/// <item>the scheduler step x_t → x_{t−1}, continuing the image's own noise stream;</item>
/// <item>inpainting with any other UNet: diffusers' legacy blend of the kept area,
/// <c>latents = (1 − m)·add_noise(image_latents, noise, t_next) + m·latents</c> (the clean image latents after the last step).</item>
/// </list>
/// After each step, a progress object that is an <see cref="ILatentPreviewObserver"/> may take a look at the latents
/// (a <see cref="LatentFrame"/>, made once per generation). The UNet buffers are rented once per generation and every
/// input but the sample is bound once; the loop itself allocates nothing.
/// </summary>
internal static class GuidedDenoisingLoop
{
    public static void Run(UNetModel unetModel, ModelKind kind, UNetInputs conditioning, GenerationLatents latents, IScheduler[] schedulers, PreparedBatch batch,
        RunOptions runOptions, IProgress<StepProgress>? progress, CancellationToken cancellationToken)
    {
        var count = batch.Count;
        var key = batch.Key;
        var unetBatch = batch.UNetBatch;
        var condOffset = key.UnconditionalPass ? count : 0;
        var latentLength = latents.LatentLength;
        var plane = latents.LatentPlane;
        var inChannels = latents.InpaintingUNet ? 9 : 4;
        var rowLength = inChannels * plane;
        var timesteps = schedulers[0].Timesteps;
        var first = key.FirstStep;

        using var unetInputBuffer = new RentedFloats(unetBatch * rowLength);
        using var unetOutputBuffer = new RentedFloats(unetBatch * latentLength);
        var unetInput = unetInputBuffer.Span;
        var unetOutput = unetOutputBuffer.Span;
        if (latents.InpaintingUNet)
        {
            // Channels 4..8 of every row: the latent mask, then the masked image's latents (torch.cat([latents, mask, masked], dim=1)).
            for (var row = 0; row < unetBatch; row++)
            {
                var image = row % count;
                latents.LatentMask(image).CopyTo(unetInput.Slice(row * rowLength + latentLength, plane));
                latents.MaskedImageLatent(image).CopyTo(unetInput.Slice(row * rowLength + latentLength + plane, latentLength));
            }
        }

        using var blendScratch = new RentedFloats(latents.LegacyBlend ? latentLength : 0);
        var observer = progress as ILatentPreviewObserver;
        using var previewScratch = new RentedFloats(observer is null ? 0 : latentLength);
        var previewStep = first;
        var frame = observer is null ? null : new LatentFrame(kind, count, batch.LatentHeight, batch.LatentWidth, image =>
        {
            // The latents as the next UNet call will see them (near unit variance whatever the scheduler); the last as they are.
            var scratch = previewScratch.Array.AsMemory(0, latentLength);
            latents.Latent(image).CopyTo(scratch.Span);
            if (previewStep + 1 < timesteps.Count) schedulers[image].ScaleModelInput(scratch.Span, previewStep + 1);
            return scratch;
        });
        using var activity = DiffusionTelemetry.Source.StartActivity(DiffusionTelemetry.DenoiseActivity);
        using var unet = unetModel.Bind(unetInputBuffer.Array, inChannels, conditioning, unetOutputBuffer.Array, unetBatch, batch.LatentHeight, batch.LatentWidth);
        activity?.SetTag("diffusion.batch_size", count);
        activity?.SetTag("diffusion.unet_batch_size", unetBatch);
        activity?.SetTag("diffusion.steps", timesteps.Count - first);
        activity?.SetTag("diffusion.scheduler", key.Scheduler);
        for (var step = first; step < timesteps.Count; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var stepStart = Stopwatch.GetTimestamp();

            // 5a. scale_model_input, expanded to [uncond; cond] for guidance.
            for (var i = 0; i < count; i++)
            {
                var cond = unetInput.Slice((condOffset + i) * rowLength, latentLength);
                latents.Latent(i).CopyTo(cond);
                schedulers[i].ScaleModelInput(cond, step);
                if (key.UnconditionalPass) cond.CopyTo(unetInput.Slice(i * rowLength, latentLength));
            }

            // 5b. Predict the noise.
            unet.Run(runOptions, timesteps[step]);

            // 5c. Guidance per image, then the scheduler step x_t → x_{t−1}, then the legacy inpainting blend.
            for (var i = 0; i < count; i++)
            {
                var prediction = unetOutput.Slice((condOffset + i) * latentLength, latentLength);
                var scale = batch.Requests[i].GuidanceScale;
                if (key.UnconditionalPass && scale > 1f)
                {
                    var uncond = unetOutput.Slice(i * latentLength, latentLength);
                    TensorPrimitives.Subtract(prediction, uncond, prediction);
                    TensorPrimitives.MultiplyAdd(prediction, scale, uncond, prediction);
                }
                var latent = latents.Latent(i);
                schedulers[i].Step(prediction, step, latent, latents.Noise[i]);
                if (latents.LegacyBlend) BlendKeptArea(latents, schedulers[i], i, step, timesteps.Count, blendScratch.Span);
            }

            progress?.Report(new StepProgress(step + 1 - first, timesteps.Count - first, Stopwatch.GetElapsedTime(stepStart)));
            if (observer is not null && observer.WantsPreview(step + 1 - first, timesteps.Count - first))
            {
                previewStep = step;
                observer.OnPreview(frame!, step + 1 - first, timesteps.Count - first);
            }
        }
    }

    /// <summary>
    /// diffusers' StableDiffusionInpaintPipeline with a 4-channel UNet: the kept area (mask 0) is replaced by the image
    /// latents noised to the next step's level; after the last step, by the clean image latents. The latent mask is
    /// binary, so <c>latents·m + proper·(1 − m)</c> takes one side exactly.
    /// </summary>
    private static void BlendKeptArea(GenerationLatents latents, IScheduler scheduler, int image, int step, int stepCount, Span<float> proper)
    {
        latents.ImageLatent(image).CopyTo(proper);
        if (step < stepCount - 1) scheduler.AddNoise(proper, latents.InitialNoise(image), step + 1);
        var plane = latents.LatentPlane;
        var latent = latents.Latent(image);
        var mask = latents.LatentMask(image);
        var kept = latents.KeptMask(image);
        for (var channel = 0; channel < 4; channel++)
        {
            var values = latent.Slice(channel * plane, plane);
            TensorPrimitives.Multiply(values, mask, values);
            TensorPrimitives.MultiplyAdd(proper.Slice(channel * plane, plane), kept, values, values);
        }
    }
}
