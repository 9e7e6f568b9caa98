using DiffusionEngine.Pipelines;

namespace DiffusionEngine.Imaging;

/// <summary>
/// A cheap preview of latents without the VAE: each latent pixel's four channels mapped to RGB by a fixed linear map of
/// the model family (A1111's "Approx cheap" live preview; the factors are the widely used ones from
/// https://discuss.huggingface.co/t/decoding-latents-to-rgb-without-upscaling/23204 for SD 1.x/2.x and ComfyUI's
/// <c>latent_rgb_factors</c> for SDXL), then <c>round(clamp((x + 1) / 2, 0, 1) · 255)</c>. The preview has the latents'
/// resolution (an eighth of the image's width and height). Allocation-free.
/// </summary>
public static class LatentPreview
{
    // [channel][rgb], in the model's (unscaled) latent space.
    private static readonly float[] StableDiffusion =
    [
        0.298f, 0.207f, 0.208f,
        0.187f, 0.286f, 0.173f,
        -0.158f, 0.189f, 0.264f,
        -0.184f, -0.271f, -0.473f,
    ];

    private static readonly float[] StableDiffusionXL =
    [
        0.3651f, 0.4232f, 0.4341f,
        -0.2533f, -0.0042f, 0.1068f,
        0.1076f, 0.1111f, -0.0362f,
        -0.3165f, -0.2492f, -0.2188f,
    ];

    private static readonly float[] StableDiffusionXLBias = [0.1084f, -0.0175f, -0.0011f];
    private static readonly float[] NoBias = [0f, 0f, 0f];

    /// <summary>
    /// Writes the RGB preview (<paramref name="height"/> × <paramref name="width"/> × 3 bytes, row-major) of one image's
    /// latents (<c>[4, height, width]</c>, channel planes) of a model of <paramref name="kind"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A span is shorter than the sizes say.</exception>
    public static void Render(ModelKind kind, ReadOnlySpan<float> latent, int height, int width, Span<byte> rgb)
    {
        var plane = height * width;
        if (latent.Length < 4 * plane) throw new ArgumentException($"the latents hold {latent.Length} values but 4 × {height} × {width} are needed", nameof(latent));
        if (rgb.Length < 3 * plane) throw new ArgumentException($"the RGB buffer holds {rgb.Length} bytes but 3 × {height} × {width} are needed", nameof(rgb));
        var xl = kind.IsXL();
        ReadOnlySpan<float> factors = xl ? StableDiffusionXL : StableDiffusion;
        ReadOnlySpan<float> bias = xl ? StableDiffusionXLBias : NoBias;
        var c0 = latent[..plane];
        var c1 = latent.Slice(plane, plane);
        var c2 = latent.Slice(2 * plane, plane);
        var c3 = latent.Slice(3 * plane, plane);
        for (var p = 0; p < plane; p++)
        {
            for (var k = 0; k < 3; k++)
            {
                var x = bias[k] + c0[p] * factors[k] + c1[p] * factors[3 + k] + c2[p] * factors[6 + k] + c3[p] * factors[9 + k];
                rgb[3 * p + k] = (byte)MathF.Round(Math.Clamp((x + 1f) * 0.5f, 0f, 1f) * 255f);
            }
        }
    }
}
