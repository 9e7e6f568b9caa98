using DiffusionEngine.Imaging;
using DiffusionEngine.Noise;
using DiffusionEngine.Pipelines;

namespace DiffusionEngine.Tests.Noise;

/// <summary>A1111's variation seed (slerp of two noises) and "resize seed from" (modules/rng.py ImageRNG.first).</summary>
public sealed class VariationNoiseTests
{
    private const int Channels = 4, Height = 8, Width = 8;

    [Fact]
    public void WithoutExtras_ItIsTheImagesOwnStream()
    {
        var request = new GenerationRequest { Prompt = "x", Seed = 5 };
        var expected = Draw(5);
        var actual = new float[expected.Length];

        VariationNoise.Fill(request, NoiseSources.Create(RngKind.Cpu, 5), actual, Height, Width);

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Slerp_AtZeroIsTheSeedsNoise_AtOneTheSubseeds_InBetweenKeepsTheScale()
    {
        float[] Mixed(float strength)
        {
            var values = new float[Channels * Height * Width];
            VariationNoise.Fill(new GenerationRequest { Prompt = "x", Seed = 1, Subseed = 2, SubseedStrength = strength }, NoiseSources.Create(RngKind.Cpu, 1), values, Height, Width);
            return values;
        }

        var full = Mixed(1f);
        var half = Mixed(0.5f);
        var tiny = Mixed(1e-6f);

        AssertClose(Draw(2), full);
        AssertClose(Draw(1), tiny);
        // Spherical interpolation of two independent normal draws keeps roughly unit variance (a linear mix would halve it).
        var variance = half.Select(v => (double)v * v).Average();
        Assert.InRange(variance, 0.7, 1.4);
    }

    [Fact]
    public void ResizeFrom_PastesTheCentreOfTheOtherSizesNoise()
    {
        // Noise drawn for a 32x64 image (latent 4x8) is pasted into rows 2..5 of the 8x8 latent.
        var request = new GenerationRequest { Prompt = "x", Seed = 3, SeedResizeFromWidth = 64, SeedResizeFromHeight = 32 };
        var values = new float[Channels * Height * Width];
        VariationNoise.Fill(request, NoiseSources.Create(RngKind.Cpu, 3), values, Height, Width);

        var small = new float[Channels * 4 * Width];
        NoiseSources.Create(RngKind.Cpu, 3).Fill(small);
        var own = Draw(3);
        for (var c = 0; c < Channels; c++)
        {
            for (var y = 0; y < Height; y++)
            {
                for (var x = 0; x < Width; x++)
                {
                    var expected = y is >= 2 and < 6 ? small[(c * 4 + y - 2) * Width + x] : own[(c * Height + y) * Width + x];
                    Assert.Equal(expected, values[(c * Height + y) * Width + x]);
                }
            }
        }
    }

    [Fact]
    public void InfoText_WritesTheSeedExtras_AsA1111()
    {
        var text = InfoText.Format(new GenerationRequest
        {
            Prompt = "p", Seed = 1, Subseed = 9, SubseedStrength = 0.25f, SeedResizeFromWidth = 768, SeedResizeFromHeight = 512, Width = 64, Height = 64,
        }, "Euler a", "m");

        Assert.Contains("Model: m, Variation seed: 9, Variation seed strength: 0.25, Seed resize from: 768x512, RNG: CPU", text, StringComparison.Ordinal);
    }

    private static float[] Draw(ulong seed)
    {
        var values = new float[Channels * Height * Width];
        NoiseSources.Create(RngKind.Cpu, seed).Fill(values);
        return values;
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        for (var i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-4, $"value {i}: {expected[i]} vs {actual[i]}");
    }
}
