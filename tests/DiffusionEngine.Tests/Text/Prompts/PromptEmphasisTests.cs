using DiffusionEngine.Tests.TestSupport;
using DiffusionEngine.Tests.TinyModel;
using DiffusionEngine.Text;
using DiffusionEngine.Text.Prompts;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Tests.Text.Prompts;

/// <summary>
/// <see cref="PromptEmphasis"/>: the formulas on small hand-computed chunks, the identity with every weight 1.0 (for
/// every mode, and on the tiny model's real text-encoder output), and no allocation on a full-size chunk.
/// </summary>
public sealed class PromptEmphasisTests(DefaultTinyModelFixture model) : IClassFixture<DefaultTinyModelFixture>
{
    private const float Tolerance = 1e-6f;

    // Two tokens × two hidden values: z = [[1, 2], [3, 4]], the second token weighs 2.
    private static float[] Chunk() => [1, 2, 3, 4];
    private static readonly float[] Weights = [1, 2];

    [Fact]
    public void Original_ScalesEachTokenByItsWeight_ThenRestoresTheChunkMean()
    {
        var z = Chunk();

        PromptEmphasis.ApplyOriginal(z, Weights);

        // Weighted: [[1, 2], [6, 8]], mean 17/4; the original mean is 10/4, so everything is scaled by 10/17.
        Assert.Equal([10f / 17, 20f / 17, 60f / 17, 80f / 17], z, (a, b) => Math.Abs(a - b) < Tolerance);
        Assert.Equal(2.5, z.Average(), 1e-6);
    }

    [Fact]
    public void Original_WhenTheWeightedMeanIsZero_SkipsTheRescalingInsteadOfDividingByZero()
    {
        float[] z = [1, -1, 1, 1];

        PromptEmphasis.ApplyOriginal(z, [1, 0]);

        Assert.Equal([1f, -1f, 0f, 0f], z);
    }

    [Fact]
    public void NoNorm_OnlyScalesEachTokenByItsWeight()
    {
        var z = Chunk();

        PromptEmphasis.ApplyNoNorm(z, Weights);

        Assert.Equal([1f, 2f, 6f, 8f], z);
    }

    [Fact]
    public void Comfy_MovesWeightedTokensAwayFromTheEmptyPromptsVectors()
    {
        var z = Chunk();
        float[] empty = [0, 0, 1, 1];

        PromptEmphasis.ApplyComfy(z, Weights, empty);

        // Token 0 (weight 1) is untouched; token 1: ([3, 4] − [1, 1])·2 + [1, 1] = [5, 7].
        Assert.Equal([1f, 2f, 5f, 7f], z);
    }

    [Fact]
    public void Comfy_WeightZero_GivesTheEmptyPromptsVector()
    {
        var z = Chunk();

        PromptEmphasis.ApplyComfy(z, [1, 0], [9, 9, -3, 0.5f]);

        Assert.Equal([1f, 2f, -3f, 0.5f], z);
    }

    [Fact]
    public void Ignore_ChangesNothing()
    {
        var z = Chunk();

        PromptEmphasis.Apply(EmphasisMode.Ignore, z, Weights);

        Assert.Equal(Chunk(), z);
    }

    [Theory]
    [InlineData(EmphasisMode.Original)]
    [InlineData(EmphasisMode.NoNorm)]
    [InlineData(EmphasisMode.Ignore)]
    [InlineData(EmphasisMode.Comfy)]
    public void EveryMode_WithEveryWeightOne_LeavesTheHiddenStatesBitForBit(EmphasisMode mode)
    {
        var random = new Random(13);
        var z = new float[77 * 32];
        var empty = new float[z.Length];
        for (var i = 0; i < z.Length; i++)
        {
            z[i] = (float)(random.NextDouble() * 4 - 2);
            empty[i] = (float)random.NextDouble();
        }
        var before = (float[])z.Clone();
        var weights = Enumerable.Repeat(1f, 77).ToArray();

        PromptEmphasis.Apply(mode, z, weights, empty);

        Assert.Equal(before, z);
    }

    [Fact]
    public void Apply_LengthsThatDoNotFit_AreRejected()
    {
        Assert.Throws<ArgumentException>(() => PromptEmphasis.ApplyOriginal(new float[5], Weights));
        Assert.Throws<ArgumentException>(() => PromptEmphasis.ApplyNoNorm(new float[4], []));
        Assert.Throws<ArgumentException>(() => PromptEmphasis.ApplyComfy(new float[4], Weights, new float[2]));
        Assert.Throws<ArgumentException>(() => PromptEmphasis.Apply(EmphasisMode.Comfy, new float[4], Weights));
    }

    [Fact]
    public void Original_OnAFullSizeChunk_AllocatesNothing()
    {
        var z = new float[77 * 768];
        z.AsSpan().Fill(0.25f);
        var weights = Enumerable.Repeat(1.1f, 77).ToArray();
        PromptEmphasis.ApplyOriginal(z, weights);

        var allocated = AllocationMeasurement.Fewest(() =>
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            PromptEmphasis.ApplyOriginal(z, weights);
            PromptEmphasis.ApplyComfy(z, weights, z);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        });

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void TinyModel_UnweightedA1111Prompt_EncodesIdenticallyToPlain()
    {
        var tokenizer = ClipTokenizer.Load(Path.Combine(model.Path, "tokenizer"));
        const string text = "a red fox in the snow, forest at dusk";
        var a1111 = PromptTokenizer.Tokenize(text, tokenizer).Chunks[0];
        var plain = PromptTokenizer.Tokenize(text, tokenizer, PromptSyntax.Plain).Chunks[0];
        using var encoder = new InferenceSession(Path.Combine(model.Path, "text_encoder", "model.onnx"));

        var hidden = Encode(encoder, a1111);
        PromptEmphasis.ApplyOriginal(hidden, a1111.Weights);

        Assert.Equal(Encode(encoder, plain), hidden);
    }

    [Fact]
    public void TinyModel_WeightedToken_IsScaledRelativeToTheOthers_AndTheChunkMeanIsKept()
    {
        var tokenizer = ClipTokenizer.Load(Path.Combine(model.Path, "tokenizer"));
        var weighted = PromptTokenizer.Tokenize("a (red:1.5) fox", tokenizer).Chunks[0];
        var unweighted = PromptTokenizer.Tokenize("a red fox", tokenizer).Chunks[0];
        Assert.Equal(unweighted.Ids.ToArray(), weighted.Ids.ToArray());
        using var encoder = new InferenceSession(Path.Combine(model.Path, "text_encoder", "model.onnx"));
        var original = Encode(encoder, unweighted);
        var hidden = Encode(encoder, weighted);
        var hiddenSize = hidden.Length / 77;

        PromptEmphasis.ApplyOriginal(hidden, weighted.Weights);

        Assert.Equal(original.Average(), hidden.Average(), 1e-5);
        // BOS weighs 1: its row shows the common rescaling factor.
        var ratio = hidden.Take(hiddenSize).Sum(v => Math.Abs(v)) / original.Take(hiddenSize).Sum(v => Math.Abs(v));
        for (var t = 0; t < 77; t++)
        {
            for (var c = 0; c < hiddenSize; c += 7)
            {
                var expected = original[t * hiddenSize + c] * weighted.Weights[t] * ratio;
                Assert.Equal(expected, hidden[t * hiddenSize + c], 1e-4);
            }
        }
        Assert.Contains(1.5f, weighted.Weights.ToArray());
    }

    private static float[] Encode(InferenceSession encoder, PromptChunk chunk)
    {
        var ids = new int[chunk.Length];
        chunk.CopyIdsTo(ids);
        using var input = OrtValue.CreateTensorValueFromMemory(ids, [1, ids.Length]);
        using var options = new RunOptions();
        using var outputs = encoder.Run(options, ["input_ids"], [input], ["last_hidden_state"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
