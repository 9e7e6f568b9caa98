namespace DiffusionEngine.Pipelines.Steps;

/// <summary>
/// An LCM UNet's <c>timestep_cond</c>: the guidance-scale embedding of diffusers'
/// <c>LatentConsistencyModelPipeline.get_guidance_scale_embedding</c> (from VDM, Kingma et al. 2021), of
/// <c>w = guidance_scale − 1</c> (the pipeline passes <c>self.guidance_scale - 1</c>), with the UNet config's
/// <c>time_cond_proj_dim</c> as width d:
/// <code>
/// w ← w · 1000;  half = d / 2;  f_k = exp(−k · ln(10000) / (half − 1)), k = 0 … half − 1
/// embedding = [sin(w · f_0) … sin(w · f_{half−1}), cos(w · f_0) … cos(w · f_{half−1})] (+ one 0 when d is odd)
/// </code>
/// </summary>
internal static class GuidanceScaleEmbedding
{
    /// <summary>Writes the embedding of <paramref name="guidanceScale"/> into <paramref name="destination"/> (its length is d).</summary>
    public static void Fill(float guidanceScale, Span<float> destination)
    {
        var dimension = destination.Length;
        var half = dimension / 2;
        // torch computes in float32: w·1000, the frequencies, their product, then sin/cos.
        var w = (guidanceScale - 1f) * 1000f;
        var step = (float)Math.Log(10000.0) / (half - 1);
        for (var k = 0; k < half; k++)
        {
            var frequency = MathF.Exp(k * -step);
            var angle = w * frequency;
            destination[k] = MathF.Sin(angle);
            destination[half + k] = MathF.Cos(angle);
        }
        if (dimension % 2 == 1) destination[^1] = 0f;
    }
}
