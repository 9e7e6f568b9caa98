namespace DiffusionEngine.Text.Prompts;

/// <summary>
/// One text-encoder window of a prompt: the <see cref="ClipTokenizer.MaxLength"/> (77) ids the encoder receives and one
/// weight per id. A prompt of more than 75 tokens, or one with BREAK, has several; each is encoded on its own and
/// the hidden states are concatenated along the sequence axis.
/// </summary>
/// <remarks>
/// Ids are <c>BOS, content…, EOS</c> then padding: EOS for tokenizers whose pad token is EOS (SD 1.x, SDXL's first
/// encoder), the tokenizer's pad id after the first EOS otherwise (OpenCLIP: SD 2.x, SDXL's second encoder), as A1111's
/// <c>process_tokens</c> does. BOS, EOS and padding weigh 1.0. Immutable; safe to share.
/// </remarks>
public sealed class PromptChunk
{
    private readonly int[] _ids;
    private readonly float[] _weights;

    internal PromptChunk(int[] ids, float[] weights, int tokenCount)
    {
        _ids = ids;
        _weights = weights;
        TokenCount = tokenCount;
        foreach (var weight in weights)
            HasWeights |= weight != 1f;
    }

    /// <summary>The ids the text encoder receives, padded to the window (77).</summary>
    public ReadOnlySpan<int> Ids => _ids;

    /// <summary>One weight per id (A1111's multipliers), float32 as A1111's multiplier tensor.</summary>
    public ReadOnlySpan<float> Weights => _weights;

    /// <summary>The window length: <see cref="ClipTokenizer.MaxLength"/>.</summary>
    public int Length => _ids.Length;

    /// <summary>How many prompt tokens the chunk holds (BOS, EOS and padding not counted).</summary>
    public int TokenCount { get; }

    /// <summary>True when some weight differs from 1.0, i.e. emphasis changes this chunk's hidden states.</summary>
    public bool HasWeights { get; }

    /// <summary>Copies <see cref="Ids"/> into <paramref name="destination"/> (an int64 <c>input_ids</c> row).</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not <see cref="Length"/> long.</exception>
    public void CopyIdsTo(Span<long> destination)
    {
        CheckDestination(destination.Length);
        for (var i = 0; i < _ids.Length; i++) destination[i] = _ids[i];
    }

    /// <summary>Copies <see cref="Ids"/> into <paramref name="destination"/> (an int32 <c>input_ids</c> row).</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not <see cref="Length"/> long.</exception>
    public void CopyIdsTo(Span<int> destination)
    {
        CheckDestination(destination.Length);
        _ids.CopyTo(destination);
    }

    /// <summary>The chunk of an empty prompt (BOS, EOS, padding; all weights 1): what shorter prompts are padded with.</summary>
    internal static PromptChunk Empty(ClipTokenizer tokenizer) =>
        FromContent(tokenizer, ReadOnlySpan<int>.Empty, ReadOnlySpan<float>.Empty);

    /// <summary>Wraps at most MaxLength − 2 content tokens as A1111's <c>next_chunk</c>: BOS, content, EOS, padding.</summary>
    internal static PromptChunk FromContent(ClipTokenizer tokenizer, ReadOnlySpan<int> tokens, ReadOnlySpan<float> weights)
    {
        var length = tokenizer.MaxLength;
        var ids = new int[length];
        var chunkWeights = new float[length];
        ids[0] = tokenizer.BosId;
        tokens.CopyTo(ids.AsSpan(1));
        ids.AsSpan(1 + tokens.Length).Fill(tokenizer.EosId);
        chunkWeights[0] = 1f;
        weights.CopyTo(chunkWeights.AsSpan(1));
        chunkWeights.AsSpan(1 + weights.Length).Fill(1f);

        // A1111 fills everything after the row's first EOS with the pad id when the two differ (SD 2.x's OpenCLIP).
        if (tokenizer.PadId != tokenizer.EosId)
            ids.AsSpan(ids.AsSpan().IndexOf(tokenizer.EosId) + 1).Fill(tokenizer.PadId);
        return new PromptChunk(ids, chunkWeights, tokens.Length);
    }

    private void CheckDestination(int length)
    {
        if (length != _ids.Length)
            throw new ArgumentException($"destination must hold the chunk's {_ids.Length} ids but holds {length}", "destination");
    }
}
