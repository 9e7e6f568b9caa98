using System.Runtime.InteropServices;

namespace DiffusionEngine.Text.Prompts;

/// <summary>
/// Cuts weighted fragments into text-encoder chunks as A1111's <c>tokenize_line</c>
/// (<c>modules/sd_hijack_clip.py</c>, <c>FrozenCLIPEmbedderWithCustomWordsBase</c>) does:
/// <list type="bullet">
/// <item>each fragment is tokenized on its own (no BOS/EOS, no truncation) and every token takes the fragment's weight;</item>
/// <item>a chunk holds MaxLength − 2 = 75 tokens; when the 76th arrives and a comma is among the last
/// <see cref="CommaPaddingBacktrack"/> tokens, the tokens after that comma move to the next chunk (the comma stays);</item>
/// <item>a <see cref="PromptFragment.Break"/> ends the current chunk (even an empty one);</item>
/// <item>each chunk is padded to 75 and wrapped in BOS/EOS (see <see cref="PromptChunk"/> for the pad id); a prompt
/// with no tokens is one empty chunk.</item>
/// </list>
/// Textual-inversion embeddings (A1111's <c>fixes</c>) are not supported: an embedding's name is ordinary text here.
/// </summary>
internal static class PromptChunker
{
    /// <summary>A1111's <c>comma_padding_backtrack</c> default: how far back a chunk boundary may move to a comma.</summary>
    public const int CommaPaddingBacktrack = 20;

    /// <exception cref="PromptTooLongException">More than <paramref name="maxChunks"/> chunks are needed.</exception>
    public static ChunkedPrompt Chunk(IReadOnlyList<PromptFragment> fragments, ClipTokenizer tokenizer, int maxChunks)
    {
        ArgumentNullException.ThrowIfNull(fragments);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChunks, 1);

        var chunkLength = tokenizer.MaxLength - 2;
        var chunks = new List<PromptChunk>();
        var chunkCount = 0;
        var tokenCount = 0;
        var tokens = new List<int>(chunkLength);
        var weights = new List<float>(chunkLength);
        var lastComma = -1;

        // A1111's next_chunk; chunks past the limit are counted (for the error message) but not built.
        void NextChunk(bool isLast)
        {
            tokenCount += isLast ? tokens.Count : chunkLength;
            if (chunkCount < maxChunks)
                chunks.Add(PromptChunk.FromContent(tokenizer, CollectionsMarshal.AsSpan(tokens), CollectionsMarshal.AsSpan(weights)));
            chunkCount++;
            lastComma = -1;
            tokens.Clear();
            weights.Clear();
        }

        Span<int> movedTokens = stackalloc int[CommaPaddingBacktrack];
        Span<float> movedWeights = stackalloc float[CommaPaddingBacktrack];
        foreach (var fragment in fragments)
        {
            if (fragment.IsBreak)
            {
                NextChunk(isLast: false);
                continue;
            }

            var weight = (float)fragment.Weight;
            foreach (var token in tokenizer.EncodeToIds(fragment.Text))
            {
                if (token == tokenizer.CommaId)
                {
                    lastComma = tokens.Count;
                }
                else if (tokens.Count == chunkLength && lastComma != -1 && tokens.Count - lastComma <= CommaPaddingBacktrack)
                {
                    // Move the words after the last comma to the next chunk (fewer than CommaPaddingBacktrack of them).
                    var start = lastComma + 1;
                    var moved = tokens.Count - start;
                    CollectionsMarshal.AsSpan(tokens)[start..].CopyTo(movedTokens);
                    CollectionsMarshal.AsSpan(weights)[start..].CopyTo(movedWeights);
                    tokens.RemoveRange(start, moved);
                    weights.RemoveRange(start, moved);
                    NextChunk(isLast: false);
                    tokens.AddRange(movedTokens[..moved]);
                    weights.AddRange(movedWeights[..moved]);
                }

                if (tokens.Count == chunkLength) NextChunk(isLast: false);
                tokens.Add(token);
                weights.Add(weight);
            }
        }

        if (tokens.Count > 0 || chunkCount == 0) NextChunk(isLast: true);
        if (chunkCount > maxChunks) throw new PromptTooLongException(chunkCount, maxChunks, chunkLength);
        return new ChunkedPrompt(PromptSyntax.A1111, [.. chunks], PromptChunk.Empty(tokenizer), tokenCount, truncated: false);
    }
}
