namespace DiffusionEngine.Text.Prompts;

/// <summary>
/// The one entry point from prompt text to text-encoder input: reads the text with a <see cref="PromptSyntax"/> and
/// returns its chunks (ids and per-token weights). Call it once per prompt and per tokenizer (SDXL's two tokenizers
/// give the same chunk boundaries, since they share the vocabulary, but different pad ids).
/// </summary>
public static class PromptTokenizer
{
    /// <summary>The default <c>maxChunks</c>: 8 chunks of 75 tokens (600 tokens).</summary>
    public const int DefaultMaxChunks = 8;

    /// <summary>
    /// Tokenizes <paramref name="prompt"/>: with <see cref="PromptSyntax.A1111"/>, parsed by
    /// <see cref="PromptAttention.Parse"/> and chunked as A1111 does (any length up to <paramref name="maxChunks"/>
    /// chunks); with <see cref="PromptSyntax.Plain"/>, the literal text in one window, cut to fit, every weight 1.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="prompt"/> or <paramref name="tokenizer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxChunks"/> is below 1 or <paramref name="syntax"/> is not defined.</exception>
    /// <exception cref="PromptTooLongException">The prompt needs more than <paramref name="maxChunks"/> chunks (A1111 syntax).</exception>
    /// <exception cref="ArgumentException">A weight in the prompt is not a finite number (A1111 syntax).</exception>
    public static ChunkedPrompt Tokenize(string prompt, ClipTokenizer tokenizer, PromptSyntax syntax = PromptSyntax.A1111, int maxChunks = DefaultMaxChunks)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChunks, 1);
        return syntax switch
        {
            PromptSyntax.A1111 => PromptChunker.Chunk(PromptAttention.Parse(prompt), tokenizer, maxChunks),
            PromptSyntax.Plain => Plain(prompt, tokenizer),
            _ => throw new ArgumentOutOfRangeException(nameof(syntax), syntax, "prompt syntax must be A1111 or Plain"),
        };
    }

    // Today's single window: ClipTokenizer.EncodePadded's ids, unweighted.
    private static ChunkedPrompt Plain(string prompt, ClipTokenizer tokenizer)
    {
        var ids = new int[tokenizer.MaxLength];
        var encoded = tokenizer.EncodePadded(prompt, ids);
        var weights = new float[ids.Length];
        weights.AsSpan().Fill(1f);
        var chunk = new PromptChunk(ids, weights, encoded.Count - 2);
        return new ChunkedPrompt(PromptSyntax.Plain, [chunk], PromptChunk.Empty(tokenizer), encoded.UntruncatedCount - 2, encoded.Truncated);
    }
}
