using DiffusionEngine.TinyModel;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Tests.TinyModel;

/// <summary>The default tiny model makes deterministic images that are not flat after the usual pipeline maths.</summary>
public sealed class TinyModelImageTests(DefaultTinyModelFixture model) : IClassFixture<DefaultTinyModelFixture>
{
    private const double ScalingFactor = 0.18215;

    [Fact]
    public void DefaultModel_AfterCrudeDenoising_DecodesToDeterministicImagesWithPixelStandardDeviationAboveFive()
    {
        using var textEncoder = new InferenceSession(Path.Combine(model.Path, "text_encoder", "model.onnx"));
        using var unet = new InferenceSession(Path.Combine(model.Path, "unet", "model.onnx"));
        using var decoder = new InferenceSession(Path.Combine(model.Path, "vae_decoder", "model.onnx"));
        var runner = new TinyModelRunner(textEncoder, unet, decoder, ModelDataType.Float32, InputIdsType.Int32, TimestepInput.Int64Batch);
        var vocabularySize = File.ReadAllLines(Path.Combine(model.Path, "tokenizer", "merges.txt")).Length - 1 + 512 + 2;

        var first = Generate(runner, vocabularySize, seed: 1);
        var again = Generate(runner, vocabularySize, seed: 1);
        var other = Generate(runner, vocabularySize, seed: 2);

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.True(StandardDeviation(first) > 5, $"pixel standard deviation {StandardDeviation(first):F2} is not above 5");
        Assert.True(StandardDeviation(other) > 5, $"pixel standard deviation {StandardDeviation(other):F2} is not above 5");
    }

    /// <summary>
    /// Four deterministic DDIM steps (ε-prediction, SD's scaled-linear betas) on a 16×16 latent with a [uncond; cond]
    /// batch and guidance 7.5, then VAE decode of latents/0.18215 and pixels round(clamp(x/2 + 0.5, 0, 1)·255).
    /// </summary>
    private static byte[] Generate(TinyModelRunner runner, int vocabularySize, int seed)
    {
        const int size = 16;
        long bos = vocabularySize - 2, eos = vocabularySize - 1;
        var uncond = new long[77];
        var cond = new long[77];
        Array.Fill(uncond, eos);
        Array.Fill(cond, eos);
        uncond[0] = cond[0] = bos;
        long[] prompt = [70, 72, 79, 84, 79, 600, 610, 620]; // arbitrary token ids
        prompt.CopyTo(cond, 1);
        var hiddenUncond = runner.EncodeText(uncond, 1);
        var hiddenCond = runner.EncodeText(cond, 1);
        var hidden = hiddenUncond.Concat(hiddenCond).ToArray();

        var alphasCumprod = AlphasCumprod();
        var latents = TinyModelRunner.GaussianLatents(1, size, seed);
        int[] timesteps = [901, 601, 301, 1];
        for (var step = 0; step < timesteps.Length; step++)
        {
            var t = timesteps[step];
            var doubled = latents.Concat(latents).ToArray();
            var noise = runner.PredictNoise(doubled, hidden, batch: 2, timestep: t);
            var alpha = alphasCumprod[t];
            var alphaPrevious = step + 1 < timesteps.Length ? alphasCumprod[timesteps[step + 1]] : 1.0;
            for (var i = 0; i < latents.Length; i++)
            {
                var epsilon = noise[i] + 7.5 * (noise[latents.Length + i] - noise[i]);
                var original = (latents[i] - Math.Sqrt(1 - alpha) * epsilon) / Math.Sqrt(alpha);
                latents[i] = (float)(Math.Sqrt(alphaPrevious) * original + Math.Sqrt(1 - alphaPrevious) * epsilon);
            }
        }

        var scaled = latents.Select(value => (float)(value / ScalingFactor)).ToArray();
        var image = runner.Decode(scaled, batch: 1);
        Assert.All(image, value => Assert.True(float.IsFinite(value)));
        return image.Select(x => (byte)Math.Round(Math.Clamp(x / 2 + 0.5, 0, 1) * 255)).ToArray();
    }

    private static double[] AlphasCumprod()
    {
        // scaled_linear: betas = linspace(√0.00085, √0.012, 1000)².
        var values = new double[1000];
        var product = 1.0;
        for (var i = 0; i < values.Length; i++)
        {
            var root = Math.Sqrt(0.00085) + (Math.Sqrt(0.012) - Math.Sqrt(0.00085)) * i / 999.0;
            product *= 1 - root * root;
            values[i] = product;
        }
        return values;
    }

    private static double StandardDeviation(byte[] pixels)
    {
        var mean = pixels.Average(p => (double)p);
        return Math.Sqrt(pixels.Average(p => (p - mean) * (p - mean)));
    }
}
