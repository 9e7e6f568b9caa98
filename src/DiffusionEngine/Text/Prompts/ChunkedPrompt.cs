namespace DiffusionEngine.Text.Prompts;

/// <summary>
/// A prompt as the text encoder receives it: one or more <see cref="PromptChunk"/>s of the same tokenizer, encoded one
/// row each and concatenated to <c>[ChunkCount·77, hidden]</c> conditioning. Immutable; safe to share.
/// </summary>
public sealed class ChunkedPrompt
{
    private readonly PromptChunk[] _chunks;
    private readonly PromptChunk _emptyChunk;

    internal ChunkedPrompt(PromptSyntax syntax, PromptChunk[] chunks, PromptChunk emptyChunk, int tokenCount, bool truncated)
    {
        Syntax = syntax;
        _chunks = chunks;
        _emptyChunk = emptyChunk;
        TokenCount = tokenCount;
        Truncated = truncated;
        foreach (var chunk in chunks) HasWeights |= chunk.HasWeights;
    }

    /// <summary>The syntax the prompt was read with.</summary>
    public PromptSyntax Syntax { get; }

    /// <summary>The chunks, in prompt order; at least one.</summary>
    public IReadOnlyList<PromptChunk> Chunks => _chunks;

    /// <summary>How many chunks, i.e. text-encoder rows and multiples of 77 conditioning tokens.</summary>
    public int ChunkCount => _chunks.Length;

    /// <summary>
    /// The prompt's length in tokens as A1111's token counter reports it: 75 for every chunk but the last (so a chunk
    /// ended early by BREAK or a comma counts whole), plus the last chunk's tokens. For <see cref="PromptSyntax.Plain"/>,
    /// the tokens the whole text has, including any cut by truncation. Padding added by <see cref="PadTo"/> is not counted.
    /// </summary>
    public int TokenCount { get; }

    /// <summary>True only for <see cref="PromptSyntax.Plain"/> text longer than one window (the rest was cut).</summary>
    public bool Truncated { get; }

    /// <summary>True when some token weight differs from 1.0 (emphasis changes the hidden states).</summary>
    public bool HasWeights { get; }

    /// <summary>The chunk that pads a shorter prompt: an empty prompt's chunk for this tokenizer.</summary>
    public PromptChunk EmptyChunk => _emptyChunk;

    /// <summary>
    /// This prompt with empty chunks appended until it has <paramref name="chunkCount"/> (this instance when it already
    /// has). Both halves of a classifier-free-guidance batch must have the same number of chunks; A1111 pads the shorter
    /// one with the empty prompt's encoding (its "pad prompt/negative prompt to be same length" option).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="chunkCount"/> is below <see cref="ChunkCount"/>.</exception>
    public ChunkedPrompt PadTo(int chunkCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkCount, ChunkCount);
        if (chunkCount == ChunkCount) return this;
        var chunks = new PromptChunk[chunkCount];
        _chunks.CopyTo(chunks, 0);
        chunks.AsSpan(ChunkCount).Fill(_emptyChunk);
        return new ChunkedPrompt(Syntax, chunks, _emptyChunk, TokenCount, Truncated);
    }

    /// <summary>Pads the shorter of a prompt and its negative prompt with empty chunks to the longer one's count.</summary>
    public static (ChunkedPrompt Prompt, ChunkedPrompt NegativePrompt) PadToSameCount(ChunkedPrompt prompt, ChunkedPrompt negativePrompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(negativePrompt);
        var count = Math.Max(prompt.ChunkCount, negativePrompt.ChunkCount);
        return (prompt.PadTo(count), negativePrompt.PadTo(count));
    }
}
