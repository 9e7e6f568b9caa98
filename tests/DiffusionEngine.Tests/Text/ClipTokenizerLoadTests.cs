using DiffusionEngine.Models;
using DiffusionEngine.Text;

namespace DiffusionEngine.Tests.Text;

/// <summary>Loading rules, the BPE loop and every load error, on the toy vocabulary (no shared data needed).</summary>
public sealed class ClipTokenizerLoadTests : IDisposable
{
    private readonly ToyTokenizerFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Encode_ToyVocabulary_AppliesMergesByRank()
    {
        var tokenizer = ClipTokenizer.Load(_folder.Path);

        // transformers' toy test: "lower newer" -> [lo, w, er</w>, n, e, w, er</w>].
        Assert.Equal([21, 10, 2, 16, 9, 3, 2, 16, 22], tokenizer.Encode("lower newer").Ids);
    }

    [Fact]
    public void EncodeToIds_ToyVocabulary_GivesContentIdsOnly()
    {
        var tokenizer = ClipTokenizer.Load(_folder.Path);

        Assert.Equal([10, 2, 16, 9, 3, 2, 16], tokenizer.EncodeToIds("lower newer"));
    }

    [Fact]
    public void CommaId_IsNull_WhenTheVocabularyHasNoComma()
    {
        Assert.Null(ClipTokenizer.Load(_folder.Path).CommaId);
    }

    [Fact]
    public void PromptChunks_FollowTheTokenizersWindow_WithoutACommaToken()
    {
        // Window 16: chunks of 14 tokens; "low" is one token (low</w>, 15).
        var tokenizer = ClipTokenizer.Load(_folder.Path);

        var prompt = DiffusionEngine.Text.Prompts.PromptTokenizer.Tokenize(string.Join(' ', Enumerable.Repeat("low", 20)), tokenizer);

        Assert.Equal([14, 6], prompt.Chunks.Select(c => c.TokenCount));
        Assert.All(prompt.Chunks, chunk => Assert.Equal(16, chunk.Length));
        Assert.Equal([21, .. Enumerable.Repeat(15, 6), 22, .. Enumerable.Repeat(20, 8)], prompt.Chunks[1].Ids.ToArray());
    }

    [Fact]
    public void Load_SpecialTokensMapOverridesTokenizerConfig()
    {
        var tokenizer = ClipTokenizer.Load(_folder.Path);

        Assert.Equal(16, tokenizer.MaxLength);
        Assert.Equal(21, tokenizer.BosId);
        Assert.Equal(22, tokenizer.EosId);
        Assert.Equal(20, tokenizer.PadId); // "<unk>" from special_tokens_map.json, not "<|endoftext|>" from the config
    }

    [Fact]
    public void Load_WithoutSpecialTokensMap_UsesTokenizerConfigPadToken()
    {
        _folder.Delete("special_tokens_map.json");

        Assert.Equal(22, ClipTokenizer.Load(_folder.Path).PadId);
    }

    [Fact]
    public void Load_WithoutModelMaxLength_Uses77()
    {
        _folder.Write("tokenizer_config.json", """{"unk_token": "<unk>"}""");

        Assert.Equal(77, ClipTokenizer.Load(_folder.Path).MaxLength);
    }

    [Fact]
    public void Encode_TruncatesToModelMaxLengthKeepingEos()
    {
        var tokenizer = ClipTokenizer.Load(_folder.Path);

        var result = tokenizer.Encode(string.Join(' ', Enumerable.Repeat("low", 20)));

        Assert.True(result.Truncated);
        Assert.Equal(16, result.Count);
        Assert.Equal(22, result.UntruncatedCount);
        Assert.Equal([21, .. Enumerable.Repeat(15, 14), 22], result.Ids);
    }

    [Fact]
    public void EncodePadded_DestinationOfWrongLength_Throws()
    {
        var tokenizer = ClipTokenizer.Load(_folder.Path);

        var error = Assert.Throws<ArgumentException>(() => tokenizer.EncodePadded("low", new long[15]));
        Assert.Contains("16", error.Message);
    }

    [Fact]
    public void Encode_ReadsNoFilesAfterLoad()
    {
        var tokenizer = ClipTokenizer.Load(_folder.Path);
        _folder.Dispose();

        Assert.Equal([21, 15, 22], tokenizer.Encode("low").Ids);
    }

    [Fact]
    public void Load_MissingFolder_NamesIt()
    {
        var missing = Path.Combine(_folder.Path, "nope");

        var error = Assert.Throws<ModelLoadException>(() => ClipTokenizer.Load(missing));

        Assert.Equal(missing, error.FilePath);
        Assert.Contains("does not exist", error.Message);
    }

    [Theory]
    [InlineData("vocab.json")]
    [InlineData("merges.txt")]
    [InlineData("tokenizer_config.json")]
    public void Load_MissingFile_NamesIt(string file)
    {
        _folder.Delete(file);

        var error = Assert.Throws<ModelLoadException>(() => ClipTokenizer.Load(_folder.Path));

        Assert.Equal(_folder.FileOf(file), error.FilePath);
        Assert.Contains(file, error.Message);
        Assert.Contains("missing", error.Message);
    }

    [Fact]
    public void Load_UnreadableFile_NamesIt()
    {
        _folder.Delete("vocab.json");
        Directory.CreateDirectory(_folder.FileOf("vocab.json"));

        var error = Assert.Throws<ModelLoadException>(() => ClipTokenizer.Load(_folder.Path));

        Assert.Equal(_folder.FileOf("vocab.json"), error.FilePath);
        Assert.Contains("cannot be read", error.Message);
    }

    [Theory]
    [InlineData("vocab.json", "{\"l\": 0,")]
    [InlineData("vocab.json", "[\"l\", \"o\"]")]
    [InlineData("vocab.json", "{\"l\": \"zero\"}")]
    [InlineData("tokenizer_config.json", "{\"model_max_length\": 77")]
    [InlineData("tokenizer_config.json", "[]")]
    [InlineData("special_tokens_map.json", "{pad_token: <unk>}")]
    public void Load_MalformedJson_NamesFile(string file, string content)
    {
        _folder.Write(file, content);

        var error = Assert.Throws<ModelLoadException>(() => ClipTokenizer.Load(_folder.Path));

        Assert.Equal(_folder.FileOf(file), error.FilePath);
        Assert.StartsWith(_folder.FileOf(file) + ": ", error.Message);
        Assert.Contains("JSON", error.Message);
    }

    [Theory]
    [InlineData("#version: 0.2\nl o\nlo x</w>\n", "line 3", "\"x</w>\"")]     // a part missing from the vocabulary
    [InlineData("#version: 0.2\nl o\ne r\n", "line 3", "\"er\"")]              // the merged token missing
    [InlineData("#version: 0.2\nl o\nlow\n", "line 3", "two tokens")]          // not a pair
    [InlineData("l o\nlo w</w>\n\ne r</w>\nw w\n", "line 5", "\"ww\"")]        // no header; blank line counted
    public void Load_MergesNotMatchingVocabulary_NamesMergesLine(string merges, string line, string detail)
    {
        _folder.Write("merges.txt", merges);

        var error = Assert.Throws<ModelLoadException>(() => ClipTokenizer.Load(_folder.Path));

        Assert.Equal(_folder.FileOf("merges.txt"), error.FilePath);
        Assert.Contains(line + ":", error.Message);
        Assert.Contains(detail, error.Message);
    }

    [Fact]
    public void Load_PadTokenNotInVocabulary_NamesTokenAndSource()
    {
        _folder.Write("special_tokens_map.json", """{"pad_token": {"content": "<pad>"}}""");

        var error = Assert.Throws<ModelLoadException>(() => ClipTokenizer.Load(_folder.Path));

        Assert.Equal(_folder.FileOf("vocab.json"), error.FilePath);
        Assert.Contains("pad_token \"<pad>\" (from special_tokens_map.json)", error.Message);
    }

    [Fact]
    public void Load_DuplicateVocabularyId_NamesBothTokens()
    {
        _folder.Write("vocab.json", """{"l": 0, "o": 0}""");

        var error = Assert.Throws<ModelLoadException>(() => ClipTokenizer.Load(_folder.Path));

        Assert.Contains("id 0 is used by both \"l\" and \"o\"", error.Message);
    }

    [Theory]
    [InlineData("1e30")]
    [InlineData("\"77\"")]
    [InlineData("0")]
    public void Load_UnusableModelMaxLength_SaysWhatWasFound(string value)
    {
        _folder.Write("tokenizer_config.json", $$"""{"model_max_length": {{value}}}""");

        var error = Assert.Throws<ModelLoadException>(() => ClipTokenizer.Load(_folder.Path));

        Assert.Equal(_folder.FileOf("tokenizer_config.json"), error.FilePath);
        Assert.Contains($"model_max_length must be an integer between 3 and 4096 but was {value}", error.Message);
    }
}
