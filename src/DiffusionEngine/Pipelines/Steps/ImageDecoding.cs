using System.Numerics.Tensors;
using DiffusionEngine.Imaging;
using DiffusionEngine.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Pipelines.Steps;

/// <summary>
/// Steps 6 and 7, shared by every pipeline: decode <c>latents / scaling_factor (+ shift_factor)</c> with the VAE,
/// fail an image the VAE turned into NaN or infinity (instead of returning it black), convert to 8-bit RGB
/// (<see cref="PixelConverter"/>) and, when inpainting with paste-back, composite over the init image with the mask as
/// alpha so the kept pixels are exactly as sent.
/// </summary>
internal static class ImageDecoding
{
    public static IReadOnlyList<GeneratedImage> Decode(ModelComponents model, PreparedBatch batch, GenerationLatents latents, RunOptions runOptions)
    {
        var key = batch.Key;
        var count = batch.Count;
        var imageLength = 3 * key.Width * key.Height;
        using var pixels = new RentedFloats(count * imageLength);
        using (var activity = DiffusionTelemetry.Source.StartActivity(DiffusionTelemetry.VaeDecodeActivity))
        {
            activity?.SetTag("diffusion.batch_size", count);
            var values = latents.Latents;
            TensorPrimitives.Divide(values, model.Folder.VaeScalingFactor, values);
            if (model.Folder.VaeShiftFactor is { } shift) TensorPrimitives.Add(values, shift, values);
            model.VaeDecoder.Decode(runOptions, latents.LatentsArray, pixels.Array, count, batch.LatentHeight, batch.LatentWidth);
        }

        var images = new GeneratedImage[count];
        for (var i = 0; i < count; i++)
        {
            var planar = pixels.Span.Slice(i * imageLength, imageLength);
            RequireFinite(planar, i, model);
            var rgb = PixelConverter.ToRgb(planar, key.Width, key.Height);
            var request = batch.Requests[i];
            if (key.Mode == GenerationMode.Inpaint && request.PasteBack) PasteBack(rgb, latents.InitImages![i], latents.PasteBackAlpha(i));
            images[i] = new GeneratedImage(request, key.Width, key.Height, rgb);
        }
        return images;
    }

    /// <summary>
    /// <c>rgb = original·(1 − α) + generated·α</c>, rounded; α = 0 keeps the original byte exactly, α = 1 the generated one.
    /// </summary>
    private static void PasteBack(byte[] rgb, RgbaImage original, ReadOnlySpan<float> alpha)
    {
        var source = original.Pixels;
        for (var p = 0; p < alpha.Length; p++)
        {
            var a = alpha[p];
            if (a >= 1f) continue;
            for (var c = 0; c < 3; c++)
            {
                var kept = source[4 * p + c];
                rgb[3 * p + c] = a <= 0f ? kept : (byte)MathF.Round(kept * (1f - a) + rgb[3 * p + c] * a, MidpointRounding.ToEven);
            }
        }
    }

    /// <exception cref="NonFiniteImageException">The decoded image holds NaN or infinity.</exception>
    private static void RequireFinite(ReadOnlySpan<float> planar, int image, ModelComponents model)
    {
        // Sum is NaN when any value is NaN or ±infinity (or both infinities appear).
        if (float.IsFinite(TensorPrimitives.Sum(planar)) || AllFinite(planar)) return;
        var fix = model.Kind.IsXL()
            ? "the float16 SDXL VAE overflows: use a float32 VAE export, or the fp16-fix VAE (madebyollin/sdxl-vae-fp16-fix) exported in float16"
            : "a float16 VAE can overflow: use a float32 VAE export";
        throw new NonFiniteImageException(
            $"the VAE decoder produced NaN or infinite values for image {image} of the batch instead of pixels; {fix}");
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (var value in values)
        {
            if (!float.IsFinite(value)) return false;
        }
        return true;
    }
}
