using DiffusionEngine.Text;
using DiffusionEngine.Text.Prompts;

namespace DiffusionEngine.Tests.Text.Prompts;

/// <summary>
/// <see cref="PromptTokenizer.Tokenize"/>'s syntax choice (A1111 or plain, today's single truncated window), padding a
/// prompt and its negative prompt to the same chunk count, and the wire names of the prompt options.
/// </summary>
public sealed class PromptTokenizerTests(TinyTokenizers tokenizers) : IClassFixture<TinyTokenizers>
{
    private readonly ClipTokenizer _tokenizer = tokenizers.EosPadded;

    private static string Words(string word, int count) => string.Join(' ', Enumerable.Repeat(word, count));

    [Fact]
    public void Plain_EncodesBracketsAsText_InTodaysPaddedWindow()
    {
        const string text = "a (red:1.3) fox BREAK [forest]";

        var prompt = PromptTokenizer.Tokenize(text, _tokenizer, PromptSyntax.Plain);

        var chunk = Assert.Single(prompt.Chunks);
        var expected = new int[_tokenizer.MaxLength];
        var encoded = _tokenizer.EncodePadded(text, expected);
        Assert.Equal(expected, chunk.Ids.ToArray());
        Assert.All(chunk.Weights.ToArray(), weight => Assert.Equal(1f, weight));
        Assert.Equal(encoded.Count - 2, chunk.TokenCount);
        Assert.Equal(PromptSyntax.Plain, prompt.Syntax);
        Assert.False(prompt.HasWeights);
        Assert.False(prompt.Truncated);
    }

    [Fact]
    public void Plain_LongPrompt_IsCutToOneWindowAndSaysSo()
    {
        var prompt = PromptTokenizer.Tokenize(Words("a", 100), _tokenizer, PromptSyntax.Plain, maxChunks: 1);

        Assert.Equal(75, Assert.Single(prompt.Chunks).TokenCount);
        Assert.True(prompt.Truncated);
        Assert.Equal(100, prompt.TokenCount);
    }

    [Fact]
    public void A1111_IsTheDefault_AndNeverTruncates()
    {
        var prompt = PromptTokenizer.Tokenize(Words("a", 100), _tokenizer);

        Assert.Equal(PromptSyntax.A1111, prompt.Syntax);
        Assert.Equal(2, prompt.ChunkCount);
        Assert.False(prompt.Truncated);
    }

    [Fact]
    public void MaxChunksBelowOne_IsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PromptTokenizer.Tokenize("a", _tokenizer, PromptSyntax.A1111, maxChunks: 0));
    }

    [Fact]
    public void PadToSameCount_AppendsEmptyChunksToTheShorterPrompt()
    {
        var prompt = PromptTokenizer.Tokenize(Words("a", 160), _tokenizer);
        var negative = PromptTokenizer.Tokenize("blurry", _tokenizer);

        var (paddedPrompt, paddedNegative) = ChunkedPrompt.PadToSameCount(prompt, negative);

        Assert.Same(prompt, paddedPrompt);
        Assert.Equal(3, paddedNegative.ChunkCount);
        Assert.Same(negative.Chunks[0], paddedNegative.Chunks[0]);
        Assert.Same(negative.EmptyChunk, paddedNegative.Chunks[1]);
        Assert.Same(negative.EmptyChunk, paddedNegative.Chunks[2]);
        Assert.Equal(PromptTokenizer.Tokenize("", _tokenizer).Chunks[0].Ids.ToArray(), paddedNegative.Chunks[2].Ids.ToArray());
        Assert.Equal(negative.TokenCount, paddedNegative.TokenCount);

        var (promptAgain, negativeAgain) = ChunkedPrompt.PadToSameCount(negative, prompt);
        Assert.Equal(3, promptAgain.ChunkCount);
        Assert.Same(prompt, negativeAgain);
    }

    [Fact]
    public void PadTo_FewerChunksThanThePromptHas_IsRejected()
    {
        var prompt = PromptTokenizer.Tokenize(Words("a", 160), _tokenizer);

        Assert.Throws<ArgumentOutOfRangeException>(() => prompt.PadTo(2));
    }

    [Fact]
    public void CopyIdsTo_FillsInt64AndInt32Rows_AndRejectsAnotherLength()
    {
        var chunk = PromptTokenizer.Tokenize("a fox", _tokenizer).Chunks[0];
        var longs = new long[77];
        var ints = new int[77];

        chunk.CopyIdsTo(longs);
        chunk.CopyIdsTo(ints);

        Assert.Equal(chunk.Ids.ToArray(), ints);
        Assert.Equal(chunk.Ids.ToArray().Select(id => (long)id), longs);
        Assert.Throws<ArgumentException>(() => chunk.CopyIdsTo(new long[76]));
    }

    [Theory]
    [InlineData("a1111", PromptSyntax.A1111)]
    [InlineData("A1111", PromptSyntax.A1111)]
    [InlineData("plain", PromptSyntax.Plain)]
    public void PromptSyntaxNames_ReadEachName(string name, PromptSyntax expected)
    {
        Assert.True(PromptSyntaxNames.TryParse(name, out var syntax));
        Assert.Equal(expected, syntax);
        Assert.Equal(name.ToLowerInvariant(), PromptSyntaxNames.NameOf(syntax));
    }

    [Theory]
    [InlineData("original", EmphasisMode.Original, "Original")]
    [InlineData("no_norm", EmphasisMode.NoNorm, "No norm")]
    [InlineData("ignore", EmphasisMode.Ignore, "Ignore")]
    [InlineData("comfy", EmphasisMode.Comfy, null)]
    public void EmphasisModeNames_ReadEachName_AndKnowA1111sInfotextName(string name, EmphasisMode expected, string? a1111Name)
    {
        Assert.True(EmphasisModeNames.TryParse(name, out var mode));
        Assert.Equal(expected, mode);
        Assert.Equal(name, EmphasisModeNames.NameOf(mode));
        Assert.Equal(a1111Name, EmphasisModeNames.A1111NameOf(mode));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("compel")]
    [InlineData("a1111 ")]
    public void Names_RejectAnythingElse(string? name)
    {
        Assert.False(PromptSyntaxNames.TryParse(name, out _));
        Assert.False(EmphasisModeNames.TryParse(name, out _));
    }
}
