using System.Text.Json;
using DiffusionEngine.Tests.TestSupport;
using Microsoft.ML.Tokenizers;

namespace DiffusionEngine.Tests.TinyModel;

/// <summary>The tiny model's tokenizer files are a valid CLIP tokenizer of its own (never the real CLIP files).</summary>
public sealed class TinyModelVocabularyTests : IClassFixture<DefaultTinyModelFixture>
{
    private readonly string _modelDirectory;
    private readonly Dictionary<string, int> _vocabulary;
    private readonly string[] _mergeLines;

    public TinyModelVocabularyTests(DefaultTinyModelFixture model)
    {
        _modelDirectory = model.Path;
        _vocabulary = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(TokenizerFile("vocab.json")))!;
        _mergeLines = File.ReadAllLines(TokenizerFile("merges.txt"));
    }

    [Fact]
    public void Vocabulary_IdsAreContiguousFromZero_WithStartAndEndOfTextLast()
    {
        var ids = _vocabulary.Values.Order().ToArray();
        Assert.Equal(Enumerable.Range(0, _vocabulary.Count), ids);
        Assert.Equal(_vocabulary.Count - 2, _vocabulary["<|startoftext|>"]);
        Assert.Equal(_vocabulary.Count - 1, _vocabulary["<|endoftext|>"]);
        Assert.Equal(512 + _mergeLines.Length - 1 + 2, _vocabulary.Count);
    }

    [Fact]
    public void Vocabulary_StartsWithTheByteLevelAlphabet_ThenTheSameWithEndOfWord()
    {
        Assert.Equal(0, _vocabulary["!"]);
        Assert.Equal(256, _vocabulary["!</w>"]);
        Assert.Equal(93, _vocabulary["~"]); // bytes 33..126 come first
        Assert.Equal(188, _vocabulary["Ā"]); // byte 0 is the first of the 68 remapped bytes (after 94 + 12 + 82 printable ones)
        Assert.Equal(255, _vocabulary["Ń"]);
        var byId = _vocabulary.ToDictionary(pair => pair.Value, pair => pair.Key);
        for (var id = 0; id < 256; id++)
            Assert.Equal(byId[id] + "</w>", byId[id + 256]);
    }

    [SharedDataFact]
    public void Vocabulary_FirstFiveHundredTwelveEntries_MatchClipsOwn()
    {
        var clip = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(SharedData.PathOf("clip", "vocab.json")))!;
        foreach (var (token, id) in clip.Where(pair => pair.Value < 512))
            Assert.Equal(id, _vocabulary[token]);
    }

    [Fact]
    public void Merges_HaveClipsHeader_AndEveryMergesPartsAndResultAreInTheVocabularyInMergeOrder()
    {
        Assert.Equal("#version: 0.2", _mergeLines[0]);
        Assert.True(_mergeLines.Length > 100, $"only {_mergeLines.Length - 1} merges were learned");
        for (var rank = 0; rank < _mergeLines.Length - 1; rank++)
        {
            var parts = _mergeLines[rank + 1].Split(' ');
            Assert.Equal(2, parts.Length);
            Assert.True(_vocabulary.ContainsKey(parts[0]), $"merge {rank} part '{parts[0]}' is not in vocab.json");
            Assert.True(_vocabulary.ContainsKey(parts[1]), $"merge {rank} part '{parts[1]}' is not in vocab.json");
            Assert.Equal(512 + rank, _vocabulary[parts[0] + parts[1]]);
        }
        Assert.Contains("photo</w>", _vocabulary.Keys);
    }

    [Fact]
    public void VocabAndMerges_LoadIntoMicrosoftMlTokenizersBpe_AndMergeCorpusWordsIntoSingleTokens()
    {
        var tokenizer = BpeTokenizer.Create(TokenizerFile("vocab.json"), TokenizerFile("merges.txt"),
            preTokenizer: null, normalizer: null,
            specialTokens: new Dictionary<string, int> { ["<|startoftext|>"] = _vocabulary["<|startoftext|>"], ["<|endoftext|>"] = _vocabulary["<|endoftext|>"] },
            unknownToken: "<|endoftext|>", continuingSubwordPrefix: null, endOfWordSuffix: "</w>", fuseUnknownTokens: false);

        Assert.Equal([_vocabulary["photo</w>"]], tokenizer.EncodeToIds("photo"));
        Assert.Equal([_vocabulary["lighting</w>"]], tokenizer.EncodeToIds("lighting"));
        Assert.True(tokenizer.EncodeToIds("zebra").Count > 1); // not in the corpus: several pieces
    }

    [Fact]
    public void TokenizerConfig_Has77Tokens_AndPadsWithEndOfText_AsStableDiffusion15()
    {
        using var config = JsonDocument.Parse(File.ReadAllText(TokenizerFile("tokenizer_config.json")));
        Assert.Equal(77, config.RootElement.GetProperty("model_max_length").GetInt32());
        Assert.Equal("<|endoftext|>", config.RootElement.GetProperty("pad_token").GetString());
        Assert.Equal("<|startoftext|>", config.RootElement.GetProperty("bos_token").GetProperty("content").GetString());
        Assert.Equal("CLIPTokenizer", config.RootElement.GetProperty("tokenizer_class").GetString());

        using var special = JsonDocument.Parse(File.ReadAllText(TokenizerFile("special_tokens_map.json")));
        Assert.Equal("<|endoftext|>", special.RootElement.GetProperty("pad_token").GetString());
        Assert.Equal("<|endoftext|>", special.RootElement.GetProperty("eos_token").GetProperty("content").GetString());
    }

    private string TokenizerFile(string name) => Path.Combine(_modelDirectory, "tokenizer", name);
}
