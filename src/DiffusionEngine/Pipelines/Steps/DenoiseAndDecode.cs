using DiffusionEngine.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Pipelines.Steps;

/// <summary>
/// Steps 3–7 of every pipeline once its prompts are encoded (step 2 is what differs between SD, SDXL and LCM):
/// prepare timesteps, prepare latents, denoise, decode, convert to pixels.
/// </summary>
internal static class DenoiseAndDecode
{
    /// <param name="model">The loaded components.</param>
    /// <param name="batch">The checked batch.</param>
    /// <param name="conditioning">Step 2's UNet inputs (the caller disposes them).</param>
    /// <param name="runOptions">For every Run; its terminate flag aborts a Run in flight.</param>
    /// <param name="progress">Told after every denoising step.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    public static IReadOnlyList<GeneratedImage> Run(ModelComponents model, PreparedBatch batch, UNetInputs conditioning, RunOptions runOptions,
        IProgress<StepProgress>? progress, CancellationToken cancellationToken)
    {
        // 3. Timesteps: one scheduler per image over the full schedule; the loop starts at the batch's first step.
        var schedulers = TimestepPreparation.Create(batch.Scheduler, model.SchedulerConfig, batch.Count, batch.Key.Steps);

        // 4. Latents (and, for inpainting, the masks and the masked image's latents).
        using var latents = LatentPreparation.Prepare(model, batch, schedulers, runOptions);
        cancellationToken.ThrowIfCancellationRequested();

        // 5. Denoising loop.
        GuidedDenoisingLoop.Run(model.UNet, model.Kind, conditioning, latents, schedulers, batch, runOptions, progress, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();

        // 6–7. Decode with the VAE, pixels (+ paste-back).
        return ImageDecoding.Decode(model, batch, latents, runOptions);
    }

    /// <summary>Runs step 2 (<paramref name="encode"/>) inside the text-encode activity.</summary>
    public static UNetInputs EncodePrompts(PreparedBatch batch, Func<UNetInputs> encode)
    {
        using var activity = DiffusionTelemetry.Source.StartActivity(DiffusionTelemetry.TextEncodeActivity);
        activity?.SetTag("diffusion.batch_size", batch.Count);
        return encode();
    }
}
