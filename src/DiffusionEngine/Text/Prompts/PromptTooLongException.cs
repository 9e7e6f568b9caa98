namespace DiffusionEngine.Text.Prompts;

/// <summary>
/// A prompt needs more text-encoder chunks than allowed: the configured maximum (<c>Diffusion:Limits:MaxPromptChunks</c>),
/// or, with <see cref="LimitedByModel"/>, what the model's UNet was exported for (a fixed 77-token sequence).
/// Each chunk costs a text-encoder row and widens every UNet cross-attention by 77 tokens, so the limit bounds both.
/// </summary>
public sealed class PromptTooLongException : ArgumentException
{
    public PromptTooLongException(int chunkCount, int maxChunks, int chunkTokens, string? paramName = null)
        : this(chunkCount, maxChunks, $"the prompt needs {chunkCount} chunks of {chunkTokens} tokens but at most {maxChunks} are allowed (MaxPromptChunks)", paramName)
    {
    }

    /// <summary>An exception with its own <paramref name="message"/> (which names the prompt and the limit).</summary>
    public PromptTooLongException(int chunkCount, int maxChunks, string message, string? paramName = null)
        : base(message, paramName)
    {
        ChunkCount = chunkCount;
        MaxChunks = maxChunks;
    }

    /// <summary>How many chunks the whole prompt needs.</summary>
    public int ChunkCount { get; }

    /// <summary>The limit it crossed.</summary>
    public int MaxChunks { get; }

    /// <summary>True when the limit is the model's (its UNet takes a fixed number of chunks), not a configured one.</summary>
    public bool LimitedByModel { get; init; }
}
