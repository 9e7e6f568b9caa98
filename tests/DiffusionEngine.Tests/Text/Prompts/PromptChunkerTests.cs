using DiffusionEngine.Tests.TestSupport;
using DiffusionEngine.Text;
using DiffusionEngine.Text.Prompts;

namespace DiffusionEngine.Tests.Text.Prompts;

/// <summary>
/// Chunking as A1111's <c>tokenize_line</c>: 75 tokens per chunk + BOS/EOS padded to 77, the comma backtrack of 20,
/// BREAK, the empty prompt, the chunk limit. Single-letter words are one token each and "," is ",&lt;/w&gt;" (267) in
/// both the tiny model's vocabulary and CLIP's, so boundaries can be counted by hand.
/// </summary>
public sealed class PromptChunkerTests(TinyTokenizers tokenizers) : IClassFixture<TinyTokenizers>
{
    private static readonly Lazy<ClipTokenizer> Clip = new(() => ClipTokenizer.Load(SharedData.PathOf("clip")));

    private readonly ClipTokenizer _tokenizer = tokenizers.EosPadded;

    private static string Words(string word, int count) => string.Join(' ', Enumerable.Repeat(word, count));

    private int IdOf(string word) => Assert.Single(_tokenizer.EncodeToIds(word));

    private static int[] Content(PromptChunk chunk) => chunk.Ids.Slice(1, chunk.TokenCount).ToArray();

    private static ChunkedPrompt Chunk(string prompt, ClipTokenizer tokenizer, int maxChunks = PromptTokenizer.DefaultMaxChunks) =>
        PromptTokenizer.Tokenize(prompt, tokenizer, PromptSyntax.A1111, maxChunks);

    [Fact]
    public void EmptyPrompt_IsOneChunkOfBosThenEosPadding()
    {
        var prompt = Chunk("", _tokenizer);

        var chunk = Assert.Single(prompt.Chunks);
        Assert.Equal([_tokenizer.BosId, .. Enumerable.Repeat(_tokenizer.EosId, 76)], chunk.Ids.ToArray());
        Assert.All(chunk.Weights.ToArray(), weight => Assert.Equal(1f, weight));
        Assert.Equal(0, chunk.TokenCount);
        Assert.Equal(0, prompt.TokenCount);
        Assert.False(prompt.HasWeights);
    }

    [Fact]
    public void ShortUnweightedPrompt_GivesExactlyThePlainWindow()
    {
        const string text = "a red fox, in the snow";

        var a1111 = Assert.Single(Chunk(text, _tokenizer).Chunks);
        var plain = new int[_tokenizer.MaxLength];
        _tokenizer.EncodePadded(text, plain);

        Assert.Equal(plain, a1111.Ids.ToArray());
        Assert.False(a1111.HasWeights);
    }

    [Fact]
    public void WeightedFragments_GiveEachOfTheirTokensTheirWeight()
    {
        var prompt = Chunk("a (red:1.3) [car]", _tokenizer);

        var chunk = Assert.Single(prompt.Chunks);
        Assert.Equal([IdOf("a"), .. _tokenizer.EncodeToIds("red"), .. _tokenizer.EncodeToIds("car")], Content(chunk));
        float[] expected =
        [
            1f, 1f, .. Enumerable.Repeat(1.3f, _tokenizer.EncodeToIds("red").Count),
            .. Enumerable.Repeat((float)(1 / 1.1), _tokenizer.EncodeToIds("car").Count),
        ];
        Assert.Equal(expected, chunk.Weights[..expected.Length].ToArray());
        Assert.All(chunk.Weights[expected.Length..].ToArray(), weight => Assert.Equal(1f, weight));
        Assert.True(prompt.HasWeights);
    }

    [Fact]
    public void LongPrompt_IsCutEvery75Tokens_AndCountsLikeA1111()
    {
        var prompt = Chunk(Words("a", 160), _tokenizer);

        Assert.Equal([75, 75, 10], prompt.Chunks.Select(c => c.TokenCount));
        Assert.Equal(160, prompt.TokenCount);
        Assert.All(prompt.Chunks, chunk =>
        {
            Assert.Equal(77, chunk.Length);
            Assert.Equal(_tokenizer.BosId, chunk.Ids[0]);
            Assert.Equal(_tokenizer.EosId, chunk.Ids[76]);
        });
        Assert.Equal([_tokenizer.BosId, .. Enumerable.Repeat(IdOf("a"), 75), _tokenizer.EosId], prompt.Chunks[0].Ids.ToArray());
    }

    [Fact]
    public void ChunkBoundary_MovesBackToACommaWithin20Tokens()
    {
        // 70 × a, ",", 10 × b: the 76th token is the 5th b, the comma is 5 back; the 4 b's after it move on.
        var prompt = Chunk(Words("a", 70) + ", " + Words("b", 10), _tokenizer);

        Assert.Equal(2, prompt.ChunkCount);
        Assert.Equal([.. Enumerable.Repeat(IdOf("a"), 70), IdOf(",")], Content(prompt.Chunks[0]));
        Assert.Equal(Enumerable.Repeat(_tokenizer.EosId, 5), prompt.Chunks[0].Ids[72..].ToArray());
        Assert.Equal(Enumerable.Repeat(IdOf("b"), 10), Content(prompt.Chunks[1]));
        Assert.Equal(75 + 10, prompt.TokenCount);
    }

    [Theory]
    [InlineData(55, true)] // the comma is 20 tokens back from the full chunk's end: moves
    [InlineData(54, false)] // 21 back: the chunk is cut at 75 tokens
    public void ChunkBoundary_BacktrackLimitIsTwentyTokens(int wordsBeforeComma, bool movesBack)
    {
        var prompt = Chunk(Words("a", wordsBeforeComma) + ", " + Words("b", 31), _tokenizer);

        Assert.Equal(2, prompt.ChunkCount);
        var firstChunkTokens = movesBack ? wordsBeforeComma + 1 : 75;
        Assert.Equal(firstChunkTokens, prompt.Chunks[0].TokenCount);
        Assert.Equal(wordsBeforeComma + 1 + 31 - firstChunkTokens, prompt.Chunks[1].TokenCount);
    }

    [Fact]
    public void CommaAsThe76thToken_StartsTheNextChunk()
    {
        var prompt = Chunk(Words("a", 75) + ", b", _tokenizer);

        Assert.Equal(Enumerable.Repeat(IdOf("a"), 75), Content(prompt.Chunks[0]));
        Assert.Equal([IdOf(","), IdOf("b")], Content(prompt.Chunks[1]));
    }

    [Fact]
    public void MovedTokens_KeepTheirWeights()
    {
        var prompt = Chunk(Words("a", 70) + ", (" + Words("b", 10) + ":1.5)", _tokenizer);

        Assert.Equal(Enumerable.Repeat(1f, 72), prompt.Chunks[0].Weights[..72].ToArray());
        Assert.Equal(Enumerable.Repeat(1.5f, 10), prompt.Chunks[1].Weights.Slice(1, 10).ToArray());
    }

    [Theory]
    [InlineData("a BREAK b", new[] { 1, 1 }, 76)]
    [InlineData("a BREAK", new[] { 1 }, 75)]
    [InlineData("BREAK", new[] { 0 }, 75)]
    [InlineData("BREAK a", new[] { 0, 1 }, 76)]
    [InlineData("a BREAK BREAK b", new[] { 1, 0, 1 }, 151)]
    [InlineData("a (b) BREAK c", new[] { 2, 1 }, 76)]
    public void Break_EndsTheChunk_AsA1111Counts(string text, int[] tokensPerChunk, int tokenCount)
    {
        var prompt = Chunk(text, _tokenizer);

        Assert.Equal(tokensPerChunk, prompt.Chunks.Select(c => c.TokenCount));
        Assert.Equal(tokenCount, prompt.TokenCount);
    }

    [Fact]
    public void BreakInsideBrackets_IsTheWordBreakWithWeightMinus1Point1()
    {
        var prompt = Chunk("(a BREAK b)", _tokenizer);

        var chunk = Assert.Single(prompt.Chunks);
        var breakTokens = _tokenizer.EncodeToIds("BREAK");
        Assert.Equal([IdOf("a"), .. breakTokens, IdOf("b")], Content(chunk));
        Assert.Equal(Enumerable.Repeat((float)(-1 * 1.1), breakTokens.Count), chunk.Weights.Slice(2, breakTokens.Count).ToArray());
    }

    [Fact]
    public void EightFullChunks_AreAllowed_AndOneTokenMoreCrossesTheLimit()
    {
        Assert.Equal(8, Chunk(Words("a", 600), _tokenizer).ChunkCount);

        var error = Assert.Throws<PromptTooLongException>(() => Chunk(Words("a", 601), _tokenizer));

        Assert.Equal(9, error.ChunkCount);
        Assert.Equal(8, error.MaxChunks);
        Assert.Contains("needs 9 chunks of 75 tokens but at most 8 are allowed", error.Message);
    }

    [Fact]
    public void ChunkLimit_CountsEveryChunkTheWholePromptNeeds()
    {
        var error = Assert.Throws<PromptTooLongException>(() => Chunk(Words("a", 1000), _tokenizer, maxChunks: 2));

        Assert.Equal(14, error.ChunkCount);
        Assert.IsAssignableFrom<ArgumentException>(error);
    }

    [Fact]
    public void OpenClipTokenizer_PadsWithItsPadIdAfterEos_AtTheSameBoundaries()
    {
        const string text = "a (b:1.2), c BREAK d";
        var eosPadded = Chunk(text, tokenizers.EosPadded);
        var openClip = Chunk(text, tokenizers.OpenClip);

        Assert.Equal(0, tokenizers.OpenClip.PadId);
        Assert.Equal([tokenizers.OpenClip.BosId, IdOf("d"), tokenizers.OpenClip.EosId, .. new int[74]], openClip.Chunks[1].Ids.ToArray());
        Assert.Equal(eosPadded.ChunkCount, openClip.ChunkCount);
        for (var i = 0; i < eosPadded.ChunkCount; i++)
        {
            Assert.Equal(Content(eosPadded.Chunks[i]), Content(openClip.Chunks[i]));
            Assert.Equal(eosPadded.Chunks[i].Weights.ToArray(), openClip.Chunks[i].Weights.ToArray());
        }
        Assert.Equal([tokenizers.OpenClip.BosId, tokenizers.OpenClip.EosId, .. new int[75]], openClip.EmptyChunk.Ids.ToArray());
    }

    public static TheoryData<string> LongPrompts() => new()
    {
        // A Civitai-style prompt of 150+ tokens: weights, nesting, escapes, commas throughout, BREAK.
        "masterpiece, best quality, (ultra detailed:1.2), ((photorealistic)), 8k uhd, dslr, soft lighting, high quality, " +
        "film grain, Fujifilm XT3, a (red:1.3) fox sitting on a mossy rock in an ancient forest, [blurry], (morning mist:0.8), " +
        "golden hour, volumetric light rays through the canopy, \\(detailed fur\\), sharp focus on the eyes, shallow depth of field, " +
        "bokeh, award winning wildlife photography, national geographic, trending on artstation BREAK forest at dusk, " +
        "towering pine trees, ferns, wildflowers, a small stream with smooth stones, reflections, dew drops on leaves, " +
        "(intricate details:1.1), [[oversaturated]], cinematic composition, rule of thirds, warm color palette, " +
        "highly detailed background, hyperrealistic, octane render, unreal engine 5, ray tracing, global illumination",
        string.Join(", ", Enumerable.Range(0, 60).Select(i => $"(word{i}:{1 + i % 5 / 10.0})")),
    };

    [Theory]
    [MemberData(nameof(LongPrompts))]
    public void LongPrompt_ChunksHoldEveryTokenInOrderWithItsWeight_TinyVocabulary(string text) =>
        AssertChunksHoldTheFragments(text, _tokenizer);

    [SharedDataTheory]
    [MemberData(nameof(LongPrompts))]
    public void LongPrompt_ChunksHoldEveryTokenInOrderWithItsWeight_ClipVocabulary(string text) =>
        AssertChunksHoldTheFragments(text, Clip.Value);

    private static void AssertChunksHoldTheFragments(string text, ClipTokenizer tokenizer)
    {
        var prompt = Chunk(text, tokenizer);

        var expectedIds = new List<int>();
        var expectedWeights = new List<float>();
        foreach (var fragment in PromptAttention.Parse(text).Where(f => !f.IsBreak))
        {
            var ids = tokenizer.EncodeToIds(fragment.Text);
            expectedIds.AddRange(ids);
            expectedWeights.AddRange(Enumerable.Repeat((float)fragment.Weight, ids.Count));
        }
        Assert.True(expectedIds.Count >= 150, $"the prompt has only {expectedIds.Count} tokens");
        Assert.True(prompt.ChunkCount >= 3);
        Assert.Equal(expectedIds, prompt.Chunks.SelectMany(Content));
        Assert.Equal(expectedWeights, prompt.Chunks.SelectMany(c => c.Weights.Slice(1, c.TokenCount).ToArray()));
        Assert.All(prompt.Chunks, chunk =>
        {
            Assert.Equal(tokenizer.BosId, chunk.Ids[0]);
            Assert.All(chunk.Ids[(1 + chunk.TokenCount)..].ToArray(), id => Assert.Equal(tokenizer.EosId, id));
            Assert.Equal(1f, chunk.Weights[0]);
            Assert.All(chunk.Weights[(1 + chunk.TokenCount)..].ToArray(), weight => Assert.Equal(1f, weight));
        });
    }

    [SharedDataFact]
    public void ClipVocabulary_WeightedPromptWithBreak_GivesTheExpectedIds()
    {
        const int bos = 49406, eos = 49407;

        var prompt = Chunk("a (red:1.3) car, BREAK cat", Clip.Value);

        Assert.Equal(2, prompt.ChunkCount);
        Assert.Equal([bos, 320, 736, 1615, 267, .. Enumerable.Repeat(eos, 72)], prompt.Chunks[0].Ids.ToArray());
        Assert.Equal([1f, 1f, 1.3f, 1f, 1f], prompt.Chunks[0].Weights[..5].ToArray());
        Assert.Equal([bos, 2368, .. Enumerable.Repeat(eos, 75)], prompt.Chunks[1].Ids.ToArray());
        Assert.Equal(75 + 1, prompt.TokenCount);
    }
}
