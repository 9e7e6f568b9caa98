using System.Buffers;
using System.Numerics.Tensors;
using DiffusionEngine.Imaging;
using DiffusionEngine.Noise;
using DiffusionEngine.Schedulers;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Pipelines.Steps;

/// <summary>
/// Step 4 ("prepare latents") for every mode, as diffusers' <c>prepare_latents</c> and <c>prepare_mask_latents</c>,
/// each image from its own seeded noise stream (which the stochastic schedulers continue), so an image does not depend
/// on the batch it runs in. Per image the stream draws, in diffusers' order: the init image's VAE sample (image-to-image;
/// inpainting when the image latents are needed), the initial noise, the masked image's VAE sample (inpainting).
/// <list type="bullet">
/// <item>text-to-image: <c>latents = noise · init_noise_sigma</c>;</item>
/// <item>image-to-image: <c>latents = add_noise(image_latents, noise, first step)</c>;</item>
/// <item>inpainting: strength 1 ⇒ <c>noise · init_noise_sigma</c>, else <c>add_noise(image_latents, noise, first step)</c>;
/// a 9-channel UNet also gets the latent mask and the masked image's latents; any other UNet gets the image latents, the
/// initial noise and the latent mask for the legacy blending of the kept area.</item>
/// </list>
/// </summary>
internal static class LatentPreparation
{
    public static GenerationLatents Prepare(ModelComponents model, PreparedBatch batch, IScheduler[] schedulers, RunOptions runOptions)
    {
        var key = batch.Key;
        var latents = new GenerationLatents(batch, inpaintingUNet: model.Kind.IsInpaintingUNet());
        try
        {
            switch (key.Mode)
            {
                case GenerationMode.TextToImage:
                    for (var i = 0; i < batch.Count; i++)
                    {
                        var latent = latents.Latent(i);
                        VariationNoise.Fill(batch.Requests[i], latents.Noise[i], latent, batch.LatentHeight, batch.LatentWidth);
                        TensorPrimitives.Multiply(latent, schedulers[i].InitNoiseSigma, latent);
                    }
                    break;
                case GenerationMode.ImageToImage:
                    PrepareImageToImage(model, batch, schedulers, runOptions, latents);
                    break;
                default:
                    PrepareInpaint(model, batch, schedulers, runOptions, latents);
                    break;
            }
            return latents;
        }
        catch
        {
            latents.Dispose();
            throw;
        }
    }

    private static void PrepareImageToImage(ModelComponents model, PreparedBatch batch, IScheduler[] schedulers, RunOptions runOptions, GenerationLatents latents)
    {
        var encoder = model.VaeEncoder!;
        var key = batch.Key;
        var images = latents.InitImages!;
        using var pixels = new RentedFloats(batch.Count * 3 * key.Width * key.Height);
        using var moments = new RentedFloats(batch.Count * encoder.OutputChannels * batch.LatentHeight * batch.LatentWidth);
        using var noise = new RentedFloats(latents.LatentLength);
        var imageLength = 3 * key.Width * key.Height;
        for (var i = 0; i < batch.Count; i++) ImageLatents.ToPlanar(images[i], pixels.Span.Slice(i * imageLength, imageLength));
        ImageLatents.Encode(encoder, runOptions, pixels.Array, moments.Array, batch.Count, key.Height, key.Width);

        var momentsLength = encoder.OutputChannels * batch.LatentHeight * batch.LatentWidth;
        for (var i = 0; i < batch.Count; i++)
        {
            var latent = latents.Latent(i);
            ImageLatents.Sample(moments.Span.Slice(i * momentsLength, momentsLength), encoder.OutputsDistribution, latents.Noise[i], latent,
                model.Folder.VaeScalingFactor, model.Folder.VaeShiftFactor);
            VariationNoise.Fill(batch.Requests[i], latents.Noise[i], noise.Span, batch.LatentHeight, batch.LatentWidth);
            schedulers[i].AddNoise(latent, noise.Span, key.FirstStep);
        }
    }

    private static void PrepareInpaint(ModelComponents model, PreparedBatch batch, IScheduler[] schedulers, RunOptions runOptions, GenerationLatents latents)
    {
        var encoder = model.VaeEncoder!;
        var key = batch.Key;
        var images = latents.InitImages!;
        var legacy = !latents.InpaintingUNet;
        var strengthMax = key.FirstStep == 0; // ⌊steps·strength⌋ = steps only at strength 1
        var needImageLatents = legacy || !strengthMax;
        var plane = key.Width * key.Height;
        var latentPlane = batch.LatentHeight * batch.LatentWidth;

        using var modelMasks = new RentedFloats(batch.Count * plane);
        for (var i = 0; i < batch.Count; i++)
        {
            var request = batch.Requests[i];
            InpaintMask.Prepare(images[i], request.Mask?.Resize(key.Width, key.Height), request.MaskConvention, request.MaskBlur,
                modelMasks.Span.Slice(i * plane, plane), latents.PasteBackAlpha(i), latents.LatentMask(i));
        }

        using var pixels = new RentedFloats(batch.Count * 3 * plane);
        var momentsLength = encoder.OutputChannels * latentPlane;
        using var imageMoments = new RentedFloats(needImageLatents ? batch.Count * momentsLength : 0);
        using var maskedMoments = new RentedFloats(legacy ? 0 : batch.Count * momentsLength);
        if (needImageLatents)
        {
            for (var i = 0; i < batch.Count; i++) ImageLatents.ToPlanar(images[i], pixels.Span.Slice(i * 3 * plane, 3 * plane));
            ImageLatents.Encode(encoder, runOptions, pixels.Array, imageMoments.Array, batch.Count, key.Height, key.Width);
        }
        if (!legacy)
        {
            for (var i = 0; i < batch.Count; i++)
                ImageLatents.ToPlanar(images[i], pixels.Span.Slice(i * 3 * plane, 3 * plane), modelMasks.Span.Slice(i * plane, plane));
            ImageLatents.Encode(encoder, runOptions, pixels.Array, maskedMoments.Array, batch.Count, key.Height, key.Width);
        }

        using var scratch = new RentedFloats(latents.LatentLength);
        for (var i = 0; i < batch.Count; i++)
        {
            var latent = latents.Latent(i);
            var noiseSource = latents.Noise[i];
            var imageLatent = legacy ? latents.ImageLatent(i) : scratch.Span;
            if (needImageLatents)
            {
                ImageLatents.Sample(imageMoments.Span.Slice(i * momentsLength, momentsLength), encoder.OutputsDistribution, noiseSource, imageLatent,
                    model.Folder.VaeScalingFactor, model.Folder.VaeShiftFactor);
            }
            // The initial noise: kept for the legacy blend, which re-noises the kept area with it at every step.
            var initialNoise = legacy ? latents.InitialNoise(i) : latent;
            VariationNoise.Fill(batch.Requests[i], noiseSource, initialNoise, batch.LatentHeight, batch.LatentWidth);
            if (needImageLatents && batch.Requests[i].InpaintStart != InpaintStart.Original)
            {
                // A1111's inpainting_fill 2/3: init_latent·(1 − mask) + (noise or 0)·mask, before it is noised.
                StartMaskedArea(imageLatent, batch.Requests[i].InpaintStart == InpaintStart.LatentNoise ? initialNoise : default, latents.LatentMask(i));
            }
            if (strengthMax)
            {
                if (legacy) initialNoise.CopyTo(latent);
                TensorPrimitives.Multiply(latent, schedulers[i].InitNoiseSigma, latent);
            }
            else
            {
                if (!legacy)
                {
                    // latent holds the noise; add_noise(image_latents, noise, t) into it through the image latent's buffer.
                    schedulers[i].AddNoise(imageLatent, latent, key.FirstStep);
                    imageLatent.CopyTo(latent);
                }
                else
                {
                    imageLatent.CopyTo(latent);
                    schedulers[i].AddNoise(latent, initialNoise, key.FirstStep);
                }
            }

            if (legacy) ImageLatents.SkipSample(encoder.OutputsDistribution, noiseSource, scratch.Span);
            else
            {
                ImageLatents.Sample(maskedMoments.Span.Slice(i * momentsLength, momentsLength), encoder.OutputsDistribution, noiseSource,
                    latents.MaskedImageLatent(i), model.Folder.VaeScalingFactor, model.Folder.VaeShiftFactor);
            }
        }
        latents.ComputeKeptMasks();
    }

    /// <summary>Sets every channel of <paramref name="latent"/> under the (binary) latent mask to <paramref name="start"/>'s value, or 0 when it is empty.</summary>
    private static void StartMaskedArea(Span<float> latent, ReadOnlySpan<float> start, ReadOnlySpan<float> latentMask)
    {
        var plane = latentMask.Length;
        for (var c = 0; c < latent.Length / plane; c++)
        {
            for (var p = 0; p < plane; p++)
            {
                if (latentMask[p] == 0f) continue;
                latent[c * plane + p] = start.IsEmpty ? 0f : start[c * plane + p];
            }
        }
    }
}

/// <summary>
/// One generation's latents and what the loop and the decoder need besides them, in arrays rented from
/// <see cref="ArrayPool{T}.Shared"/> that <see cref="Dispose"/> returns: the latents [n, 4, h, w], each image's noise
/// stream, and for inpainting the latent masks [n, h, w] (and their complements), the paste-back alphas [n, H, W], the
/// resized init images, and either the masked image's latents (9-channel UNet) or the image latents and initial noise
/// (legacy blending).
/// </summary>
internal sealed class GenerationLatents : IDisposable
{
    private readonly RentedFloats _latents;
    private readonly RentedFloats _imageLatents;
    private readonly RentedFloats _initialNoise;
    private readonly RentedFloats _maskedImageLatents;
    private readonly RentedFloats _latentMasks;
    private readonly RentedFloats _keptMasks;
    private readonly RentedFloats _pasteBackAlphas;
    private readonly int _plane;

    public GenerationLatents(PreparedBatch batch, bool inpaintingUNet)
    {
        var key = batch.Key;
        var count = batch.Count;
        LatentPlane = batch.LatentHeight * batch.LatentWidth;
        LatentLength = 4 * LatentPlane;
        _plane = key.Width * key.Height;
        InpaintingUNet = inpaintingUNet;
        var inpaint = key.Mode == GenerationMode.Inpaint;
        var legacy = inpaint && !inpaintingUNet;
        _latents = new RentedFloats(count * LatentLength);
        _imageLatents = new RentedFloats(legacy ? count * LatentLength : 0);
        _initialNoise = new RentedFloats(legacy ? count * LatentLength : 0);
        _maskedImageLatents = new RentedFloats(inpaint && inpaintingUNet ? count * LatentLength : 0);
        _latentMasks = new RentedFloats(inpaint ? count * LatentPlane : 0);
        _keptMasks = new RentedFloats(legacy ? count * LatentPlane : 0);
        _pasteBackAlphas = new RentedFloats(inpaint ? count * _plane : 0);
        Noise = new INoiseSource[count];
        for (var i = 0; i < count; i++) Noise[i] = NoiseSources.Create(batch.Requests[i].Rng, batch.Requests[i].Seed);
        if (key.Mode != GenerationMode.TextToImage)
        {
            InitImages = new RgbaImage[count];
            for (var i = 0; i < count; i++) InitImages[i] = batch.Requests[i].InitImage!.Resize(key.Width, key.Height);
        }
    }

    /// <summary>h·w.</summary>
    public int LatentPlane { get; }

    /// <summary>4·h·w: one image's latent.</summary>
    public int LatentLength { get; }

    /// <summary>The UNet takes latents ‖ mask ‖ masked-image latents (9 channels).</summary>
    public bool InpaintingUNet { get; }

    /// <summary>Whether the loop blends the kept area back after every step (inpainting with a 4-channel UNet).</summary>
    public bool LegacyBlend => _imageLatents.Length > 0;

    /// <summary>Each image's noise stream.</summary>
    public INoiseSource[] Noise { get; }

    /// <summary>The init images at the output size (image-to-image, inpainting), else null.</summary>
    public RgbaImage[]? InitImages { get; }

    /// <summary>The latents buffer [n, 4, h, w] (may be longer than the tensor).</summary>
    public float[] LatentsArray => _latents.Array;

    public Span<float> Latents => _latents.Span;
    public Span<float> Latent(int image) => _latents.Span.Slice(image * LatentLength, LatentLength);
    public Span<float> ImageLatent(int image) => _imageLatents.Span.Slice(image * LatentLength, LatentLength);
    public Span<float> InitialNoise(int image) => _initialNoise.Span.Slice(image * LatentLength, LatentLength);
    public Span<float> MaskedImageLatent(int image) => _maskedImageLatents.Span.Slice(image * LatentLength, LatentLength);
    public Span<float> LatentMask(int image) => _latentMasks.Span.Slice(image * LatentPlane, LatentPlane);

    /// <summary>1 − the latent mask: the weight of the (re-noised) image latents in the legacy blend.</summary>
    public Span<float> KeptMask(int image) => _keptMasks.Span.Slice(image * LatentPlane, LatentPlane);

    public Span<float> PasteBackAlpha(int image) => _pasteBackAlphas.Span.Slice(image * _plane, _plane);

    /// <summary>Fills <see cref="KeptMask"/> from <see cref="LatentMask"/> (after preparation, before the loop).</summary>
    public void ComputeKeptMasks()
    {
        if (_keptMasks.Length == 0) return;
        TensorPrimitives.Subtract(1f, _latentMasks.Span, _keptMasks.Span);
    }

    public void Dispose()
    {
        _latents.Dispose();
        _imageLatents.Dispose();
        _initialNoise.Dispose();
        _maskedImageLatents.Dispose();
        _latentMasks.Dispose();
        _keptMasks.Dispose();
        _pasteBackAlphas.Dispose();
    }
}

/// <summary>An array of exactly <see cref="Length"/> floats' use rented from <see cref="ArrayPool{T}.Shared"/>; Dispose returns it. Length 0 rents nothing.</summary>
internal sealed class RentedFloats(int length) : IDisposable
{
    private float[]? _array = length == 0 ? [] : ArrayPool<float>.Shared.Rent(length);

    public int Length { get; } = length;

    /// <summary>The rented array (may be longer than <see cref="Length"/>).</summary>
    public float[] Array => _array ?? throw new ObjectDisposedException(nameof(RentedFloats));

    public Span<float> Span => Array.AsSpan(0, Length);

    public void Dispose()
    {
        if (_array is { Length: > 0 }) ArrayPool<float>.Shared.Return(_array);
        _array = null;
    }
}
