using DiffusionEngine.Pipelines;

namespace DiffusionEngine.Noise;

/// <summary>
/// A1111's initial noise with its "extras" (modules/rng.py <c>ImageRNG.first</c>): a variation seed mixed in by
/// spherical interpolation (<see cref="GenerationRequest.SubseedStrength"/>), and "resize seed from" (the noise drawn
/// at another size and pasted, centred, into noise of the image's size, so a seed keeps its composition when the size
/// changes). Without either it is the image's own stream, as before. Runs once per image before the loop, never in it.
/// </summary>
public static class VariationNoise
{
    /// <summary>Fills <paramref name="destination"/> ([4, h, w]) with the request's initial noise.</summary>
    /// <param name="request">The image's request (seed, subseed, strength, resize-from size, RNG kind).</param>
    /// <param name="stream">The image's own noise stream: drawn from as A1111 draws from the image's generator.</param>
    /// <param name="destination">The latent, channels × <paramref name="latentHeight"/> × <paramref name="latentWidth"/>.</param>
    /// <param name="latentHeight">The image's height / 8.</param>
    /// <param name="latentWidth">The image's width / 8.</param>
    public static void Fill(GenerationRequest request, INoiseSource stream, Span<float> destination, int latentHeight, int latentWidth)
    {
        var resize = request.SeedResizeFromWidth > 0 && request.SeedResizeFromHeight > 0;
        var variation = request.SubseedStrength != 0;
        if (!resize && !variation)
        {
            stream.Fill(destination);
            return;
        }

        var channels = destination.Length / (latentHeight * latentWidth);
        var fromHeight = resize ? request.SeedResizeFromHeight / 8 : latentHeight;
        var fromWidth = resize ? request.SeedResizeFromWidth / 8 : latentWidth;
        // A1111: at the image's own shape the main noise comes from the image's generator; resized, from a fresh one.
        var noise = new float[channels * fromHeight * fromWidth];
        if (!resize) stream.Fill(noise);
        else NoiseSources.Create(request.Rng, request.Seed).Fill(noise);

        if (variation)
        {
            var subnoise = new float[noise.Length];
            NoiseSources.Create(request.Rng, request.Subseed).Fill(subnoise);
            Slerp(request.SubseedStrength, noise, subnoise, channels, fromHeight, fromWidth);
        }

        if (!resize)
        {
            noise.CopyTo(destination);
            return;
        }

        // x = randn(seed, shape, generator) from the image's stream; then the centred overlap comes from the resized noise.
        stream.Fill(destination);
        var dx = (latentWidth - fromWidth) / 2;
        var dy = (latentHeight - fromHeight) / 2;
        var w = dx >= 0 ? fromWidth : fromWidth + 2 * dx;
        var h = dy >= 0 ? fromHeight : fromHeight + 2 * dy;
        var tx = Math.Max(dx, 0);
        var ty = Math.Max(dy, 0);
        var sx = Math.Max(-dx, 0);
        var sy = Math.Max(-dy, 0);
        for (var c = 0; c < channels; c++)
        {
            for (var y = 0; y < h; y++)
            {
                noise.AsSpan((c * fromHeight + sy + y) * fromWidth + sx, w)
                    .CopyTo(destination.Slice((c * latentHeight + ty + y) * latentWidth + tx, w));
            }
        }
    }

    /// <summary>
    /// A1111's <c>slerp(val, low, high)</c> on a [C, H, W] tensor, into <paramref name="low"/>: norms and dot products over
    /// dim 1 (the rows), one angle per (channel, column); when the mean dot product exceeds 0.9995 it falls back to
    /// <c>low·val + high·(1 − val)</c> exactly as A1111 writes it.
    /// </summary>
    public static void Slerp(float val, float[] low, float[] high, int channels, int height, int width)
    {
        var count = channels * width;
        var dots = new double[count];
        var lowNorms = new double[count];
        var highNorms = new double[count];
        for (var c = 0; c < channels; c++)
        {
            for (var x = 0; x < width; x++)
            {
                double ll = 0, hh = 0;
                for (var y = 0; y < height; y++)
                {
                    var i = (c * height + y) * width + x;
                    ll += (double)low[i] * low[i];
                    hh += (double)high[i] * high[i];
                }
                lowNorms[c * width + x] = Math.Sqrt(ll);
                highNorms[c * width + x] = Math.Sqrt(hh);
            }
        }
        double mean = 0;
        for (var c = 0; c < channels; c++)
        {
            for (var x = 0; x < width; x++)
            {
                double dot = 0;
                var k = c * width + x;
                for (var y = 0; y < height; y++)
                {
                    var i = (c * height + y) * width + x;
                    dot += low[i] / lowNorms[k] * (high[i] / highNorms[k]);
                }
                dots[k] = dot;
                mean += dot;
            }
        }
        mean /= count;
        for (var c = 0; c < channels; c++)
        {
            for (var x = 0; x < width; x++)
            {
                var k = c * width + x;
                double a, b;
                if (mean > 0.9995)
                {
                    a = val;
                    b = 1 - val;
                }
                else
                {
                    var omega = Math.Acos(dots[k]);
                    var so = Math.Sin(omega);
                    a = Math.Sin((1.0 - val) * omega) / so;
                    b = Math.Sin(val * omega) / so;
                }
                for (var y = 0; y < height; y++)
                {
                    var i = (c * height + y) * width + x;
                    low[i] = (float)(a * low[i] + b * high[i]);
                }
            }
        }
    }
}
