namespace DiffusionEngine.Text.Prompts;

/// <summary>
/// A prompt needs more text-encoder chunks than the configured maximum (<c>Diffusion:Limits:MaxPromptChunks</c>).
/// Each chunk costs a text-encoder row and widens every UNet cross-attention by 77 tokens, so the limit bounds both.
/// </summary>
public sealed class PromptTooLongException : ArgumentException
{
    public PromptTooLongException(int chunkCount, int maxChunks, int chunkTokens, string? paramName = null)
        : base($"the prompt needs {chunkCount} chunks of {chunkTokens} tokens but at most {maxChunks} are allowed (MaxPromptChunks)", paramName)
    {
        ChunkCount = chunkCount;
        MaxChunks = maxChunks;
    }

    /// <summary>How many chunks the whole prompt needs.</summary>
    public int ChunkCount { get; }

    /// <summary>The limit it crossed.</summary>
    public int MaxChunks { get; }
}
