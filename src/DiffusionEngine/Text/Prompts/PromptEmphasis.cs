using System.Numerics.Tensors;

namespace DiffusionEngine.Text.Prompts;

/// <summary>
/// Applies a chunk's token weights to the text encoder's output for that chunk, in place. Each method takes one chunk's
/// hidden states, <c>[tokens, hidden]</c> row-major (a <c>77·hidden</c> slice of the encoder's <c>[rows, 77, hidden]</c>
/// buffer), and its <see cref="PromptChunk.Weights"/> (one per token); the hidden size is the ratio of the two lengths.
/// The caller owns the buffers; nothing is allocated. With every weight 1.0 each mode leaves the values bit for bit as
/// they were.
/// </summary>
/// <remarks>
/// Apply emphasis per encoder output (SDXL: to each encoder's hidden states before they are concatenated), per chunk and
/// per prompt, as A1111 does: its "Original" mean is taken over one chunk of one prompt.
/// </remarks>
public static class PromptEmphasis
{
    /// <summary>True when <paramref name="mode"/> needs the empty prompt's hidden states (<see cref="EmphasisMode.Comfy"/>).</summary>
    public static bool NeedsEmptyChunk(EmphasisMode mode) => mode == EmphasisMode.Comfy;

    /// <summary>Applies <paramref name="mode"/>; <paramref name="emptyChunkHiddenStates"/> is read only by <see cref="EmphasisMode.Comfy"/>.</summary>
    /// <exception cref="ArgumentException">The lengths do not fit together (see the mode's method).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mode"/> is not defined.</exception>
    public static void Apply(EmphasisMode mode, Span<float> hiddenStates, ReadOnlySpan<float> weights, ReadOnlySpan<float> emptyChunkHiddenStates = default)
    {
        switch (mode)
        {
            case EmphasisMode.Original: ApplyOriginal(hiddenStates, weights); break;
            case EmphasisMode.NoNorm: ApplyNoNorm(hiddenStates, weights); break;
            case EmphasisMode.Ignore: HiddenSize(hiddenStates, weights); break;
            case EmphasisMode.Comfy: ApplyComfy(hiddenStates, weights, emptyChunkHiddenStates); break;
            default: throw new ArgumentOutOfRangeException(nameof(mode), mode, "emphasis must be Original, NoNorm, Ignore or Comfy");
        }
    }

    /// <summary>
    /// A1111's "Original" (<c>modules/sd_emphasis.py</c>, <c>EmphasisOriginal</c>): <c>z ← z·w_t</c> for each token t,
    /// then <c>z ← z·(mean(z_before) / mean(z_after))</c> over the whole chunk, so that the chunk's mean is unchanged.
    /// Means are accumulated in double. When the weighted mean is exactly 0 (A1111 would divide by zero and produce
    /// NaN) the rescaling is skipped.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="hiddenStates"/> is not a positive multiple of the weights' length.</exception>
    public static void ApplyOriginal(Span<float> hiddenStates, ReadOnlySpan<float> weights)
    {
        var hiddenSize = HiddenSize(hiddenStates, weights);
        if (AllOne(weights)) return;

        double originalSum = 0, weightedSum = 0;
        for (var t = 0; t < weights.Length; t++)
        {
            var row = hiddenStates.Slice(t * hiddenSize, hiddenSize);
            var rowSum = TensorPrimitives.Sum<float>(row);
            originalSum += rowSum;
            if (weights[t] != 1f)
            {
                TensorPrimitives.Multiply(row, weights[t], row);
                rowSum = TensorPrimitives.Sum<float>(row);
            }
            weightedSum += rowSum;
        }

        if (weightedSum == 0) return;
        TensorPrimitives.Multiply(hiddenStates, (float)(originalSum / weightedSum), hiddenStates);
    }

    /// <summary>A1111's "No norm" (<c>EmphasisOriginalNoNorm</c>): <c>z ← z·w_t</c> for each token t.</summary>
    /// <exception cref="ArgumentException"><paramref name="hiddenStates"/> is not a positive multiple of the weights' length.</exception>
    public static void ApplyNoNorm(Span<float> hiddenStates, ReadOnlySpan<float> weights)
    {
        var hiddenSize = HiddenSize(hiddenStates, weights);
        for (var t = 0; t < weights.Length; t++)
        {
            if (weights[t] == 1f) continue;
            var row = hiddenStates.Slice(t * hiddenSize, hiddenSize);
            TensorPrimitives.Multiply(row, weights[t], row);
        }
    }

    /// <summary>
    /// ComfyUI's default weighting (<c>comfy/sd1_clip.py</c>, <c>ClipTokenWeightEncoder.encode_token_weights</c>): for
    /// each token t whose weight is not 1, <c>z_t ← (z_t − e_t)·w_t + e_t</c>, where e is the hidden states of the empty
    /// prompt's chunk (BOS, EOS, padding; <see cref="ChunkedPrompt.EmptyChunk"/>) from the same encoder and layer. Tokens
    /// of weight 1 are left as they are, and there is no normalization afterwards. ComfyUI encodes the empty chunk only
    /// when some weight differs from 1 (<see cref="ChunkedPrompt.HasWeights"/>).
    /// </summary>
    /// <remarks>
    /// Only the weighting is ComfyUI's: the weights come from A1111's parser, which multiplies nested weights where
    /// ComfyUI's replaces them (<c>((a:1.5))</c> is 1.65 here, 1.5 in ComfyUI) and which also reads <c>[a]</c> and BREAK.
    /// </remarks>
    /// <exception cref="ArgumentException">The lengths do not fit together, or <paramref name="emptyChunkHiddenStates"/> is not as long as <paramref name="hiddenStates"/>.</exception>
    public static void ApplyComfy(Span<float> hiddenStates, ReadOnlySpan<float> weights, ReadOnlySpan<float> emptyChunkHiddenStates)
    {
        var hiddenSize = HiddenSize(hiddenStates, weights);
        if (emptyChunkHiddenStates.Length != hiddenStates.Length)
        {
            throw new ArgumentException(
                $"the empty chunk's hidden states must be as long as the chunk's ({hiddenStates.Length}) but hold {emptyChunkHiddenStates.Length}",
                nameof(emptyChunkHiddenStates));
        }

        for (var t = 0; t < weights.Length; t++)
        {
            if (weights[t] == 1f) continue;
            var row = hiddenStates.Slice(t * hiddenSize, hiddenSize);
            var empty = emptyChunkHiddenStates.Slice(t * hiddenSize, hiddenSize);
            // Three float32 roundings, as torch evaluates (z - e) * w + e; no fused multiply-add.
            TensorPrimitives.Subtract(row, empty, row);
            TensorPrimitives.Multiply(row, weights[t], row);
            TensorPrimitives.Add(row, empty, row);
        }
    }

    private static int HiddenSize(ReadOnlySpan<float> hiddenStates, ReadOnlySpan<float> weights)
    {
        if (weights.IsEmpty || hiddenStates.IsEmpty || hiddenStates.Length % weights.Length != 0)
        {
            throw new ArgumentException(
                $"hidden states must hold tokens × hidden values for the {weights.Length} token weights but hold {hiddenStates.Length}",
                nameof(hiddenStates));
        }
        return hiddenStates.Length / weights.Length;
    }

    private static bool AllOne(ReadOnlySpan<float> weights)
    {
        foreach (var weight in weights)
            if (weight != 1f) return false;
        return true;
    }
}
