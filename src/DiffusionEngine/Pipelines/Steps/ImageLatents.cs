using System.Numerics.Tensors;
using DiffusionEngine.Imaging;
using DiffusionEngine.Noise;
using DiffusionEngine.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Pipelines.Steps;

/// <summary>
/// The VAE-encode step of image-to-image and inpainting (diffusers' <c>_encode_vae_image</c> / <c>retrieve_latents</c>
/// with sample_mode "sample"): images → planar pixels in [-1, 1] → VAE encoder → a latent per image, sampled from the
/// encoder's distribution with the image's own noise stream, then scaled: <c>latent = (x − shift_factor) · scaling_factor</c>.
/// </summary>
internal static class ImageLatents
{
    /// <summary>
    /// Runs the VAE encoder on <paramref name="pixels"/> [n, 3, H, W] into <paramref name="moments"/>
    /// [n, encoder.OutputChannels, H/8, W/8] (both rented by the caller).
    /// </summary>
    public static void Encode(VaeEncoderModel encoder, RunOptions runOptions, float[] pixels, float[] moments, int count, int height, int width)
    {
        using var activity = DiffusionTelemetry.Source.StartActivity(DiffusionTelemetry.VaeEncodeActivity);
        activity?.SetTag("diffusion.batch_size", count);
        encoder.Encode(runOptions, pixels, moments, count, height, width);
    }

    /// <summary>
    /// The scaled latent of one image from its encoder output <paramref name="moments"/> ([8, h, w] mean ‖ log-variance,
    /// or [4, h, w] for a latent_sample export). From a distribution: <c>x = mean + std · ε</c> with
    /// <c>std = exp(0.5 · clamp(logvar, −30, 20))</c> (diffusers' DiagonalGaussianDistribution.sample) and ε the next
    /// values of <paramref name="noise"/>; a latent_sample export's output is taken as x and draws nothing.
    /// </summary>
    public static void Sample(ReadOnlySpan<float> moments, bool distribution, INoiseSource noise, Span<float> latent, float scalingFactor, float? shiftFactor)
    {
        var length = latent.Length;
        if (distribution)
        {
            noise.Fill(latent);
            var mean = moments[..length];
            var logVariance = moments.Slice(length, length);
            for (var i = 0; i < length; i++)
            {
                var std = MathF.Exp(0.5f * Math.Clamp(logVariance[i], -30f, 20f));
                latent[i] = mean[i] + std * latent[i];
            }
        }
        else
        {
            moments[..length].CopyTo(latent);
        }
        if (shiftFactor is { } shift) TensorPrimitives.Subtract(latent, shift, latent);
        TensorPrimitives.Multiply(latent, scalingFactor, latent);
    }

    /// <summary>
    /// Advances <paramref name="noise"/> by the draws an encoder sample of <paramref name="scratch"/>'s length would take,
    /// so later draws (the stochastic schedulers' step noise) match diffusers where it encodes an image this pipeline does
    /// not need (the masked image for a 4-channel UNet).
    /// </summary>
    public static void SkipSample(bool distribution, INoiseSource noise, Span<float> scratch)
    {
        if (distribution) noise.Fill(scratch);
    }

    /// <summary>
    /// An image's RGB as planar [3, H, W] floats, <c>2 · (x / 255) − 1</c> as diffusers' VaeImageProcessor normalizes
    /// (the alpha channel is dropped); where <paramref name="repaintMask"/> is given, pixels whose mask value is ≥ 0.5 become 0
    /// (diffusers' <c>masked_image = image · (mask &lt; 0.5)</c>).
    /// </summary>
    public static void ToPlanar(RgbaImage image, Span<float> planar, ReadOnlySpan<float> repaintMask = default)
    {
        var plane = image.Width * image.Height;
        var pixels = image.Pixels;
        for (var p = 0; p < plane; p++)
        {
            if (!repaintMask.IsEmpty && repaintMask[p] >= 0.5f)
            {
                planar[p] = planar[plane + p] = planar[2 * plane + p] = 0f;
                continue;
            }
            planar[p] = pixels[4 * p] / 255f * 2f - 1f;
            planar[plane + p] = pixels[4 * p + 1] / 255f * 2f - 1f;
            planar[2 * plane + p] = pixels[4 * p + 2] / 255f * 2f - 1f;
        }
    }
}
