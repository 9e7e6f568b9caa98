using System.Text;

namespace DiffusionEngine.TinyModel.Vocabulary;

/// <summary>
/// The tiny model's own byte-level BPE tokenizer files in CLIP's exact format (vocab.json, merges.txt,
/// tokenizer_config.json, special_tokens_map.json). Vocabulary order as CLIP's: the 256 byte characters, the same
/// with "&lt;/w&gt;", one entry per merge (its concatenation, in merge order), then &lt;|startoftext|&gt; and
/// &lt;|endoftext|&gt; last. As in SD 1.5, the pad token is &lt;|endoftext|&gt; and model_max_length is 77.
/// </summary>
internal sealed class ClipVocabularyFiles
{
    public const string StartOfText = "<|startoftext|>";
    public const string EndOfText = "<|endoftext|>";

    /// <summary>Upper bound on learned merges; the corpus runs out of repeated pairs before that.</summary>
    private const int MaxMerges = 1000;

    private ClipVocabularyFiles(IReadOnlyList<string> tokens, IReadOnlyList<(string Left, string Right)> merges)
    {
        Tokens = tokens;
        Merges = merges;
    }

    /// <summary>Every token, index = id.</summary>
    public IReadOnlyList<string> Tokens { get; }

    public IReadOnlyList<(string Left, string Right)> Merges { get; }

    public int VocabularySize => Tokens.Count;

    /// <summary>The vocabulary learned from <see cref="PromptCorpus"/>; the same every time.</summary>
    public static ClipVocabularyFiles Build()
    {
        var tokens = new List<string>();
        tokens.AddRange(ByteLevelAlphabet.Characters);
        foreach (var character in ByteLevelAlphabet.Characters) tokens.Add(character + BpeTrainer.EndOfWord);
        var merges = BpeTrainer.Learn(PromptCorpus.Words(), MaxMerges, new HashSet<string>(tokens, StringComparer.Ordinal));
        foreach (var (left, right) in merges) tokens.Add(left + right);
        tokens.Add(StartOfText);
        tokens.Add(EndOfText);
        return new ClipVocabularyFiles(tokens, merges);
    }

    /// <summary>
    /// Writes the four tokenizer files into <paramref name="directory"/>. <paramref name="padToken"/> is the token that pads
    /// to the window: &lt;|endoftext|&gt; as SD 1.x's CLIP tokenizer, or "!" as SDXL's tokenizer_2 (OpenCLIP's).
    /// </summary>
    public void Write(string directory, string padToken = EndOfText)
    {
        Directory.CreateDirectory(directory);
        var pad = $"\"pad_token\": \"{padToken}\"";
        WriteText(Path.Combine(directory, "vocab.json"), VocabJson());
        WriteText(Path.Combine(directory, "merges.txt"), MergesText());
        WriteText(Path.Combine(directory, "tokenizer_config.json"), TokenizerConfigJson.Replace(DefaultPadEntry, pad, StringComparison.Ordinal));
        WriteText(Path.Combine(directory, "special_tokens_map.json"), SpecialTokensMapJson.Replace(DefaultPadEntry, pad, StringComparison.Ordinal));
    }

    private const string DefaultPadEntry = "\"pad_token\": \"<|endoftext|>\"";

    /// <summary>As transformers saves it: json.dumps(indent=2, sort_keys=True, ensure_ascii=False) + newline.</summary>
    private string VocabJson()
    {
        var entries = new (string Token, int Id)[Tokens.Count];
        for (var id = 0; id < Tokens.Count; id++) entries[id] = (Tokens[id], id);
        Array.Sort(entries, (a, b) => string.CompareOrdinal(a.Token, b.Token));

        var json = new StringBuilder("{\n");
        for (var i = 0; i < entries.Length; i++)
        {
            json.Append("  \"");
            AppendEscaped(json, entries[i].Token);
            json.Append("\": ").Append(entries[i].Id);
            json.Append(i < entries.Length - 1 ? ",\n" : "\n");
        }
        return json.Append("}\n").ToString();
    }

    private string MergesText()
    {
        var text = new StringBuilder("#version: 0.2\n");
        foreach (var (left, right) in Merges) text.Append(left).Append(' ').Append(right).Append('\n');
        return text.ToString();
    }

    private static void AppendEscaped(StringBuilder json, string value)
    {
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': json.Append("\\\""); break;
                case '\\': json.Append("\\\\"); break;
                case < ' ': json.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture)); break;
                default: json.Append(c); break;
            }
        }
    }

    private static void WriteText(string path, string text) =>
        File.WriteAllBytes(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text));

    private const string TokenizerConfigJson = """
        {
          "add_prefix_space": false,
          "bos_token": {
            "__type": "AddedToken",
            "content": "<|startoftext|>",
            "lstrip": false,
            "normalized": true,
            "rstrip": false,
            "single_word": false
          },
          "do_lower_case": true,
          "eos_token": {
            "__type": "AddedToken",
            "content": "<|endoftext|>",
            "lstrip": false,
            "normalized": true,
            "rstrip": false,
            "single_word": false
          },
          "errors": "replace",
          "model_max_length": 77,
          "name_or_path": "DiffusionService/tiny-sd",
          "pad_token": "<|endoftext|>",
          "special_tokens_map_file": "./special_tokens_map.json",
          "tokenizer_class": "CLIPTokenizer",
          "unk_token": {
            "__type": "AddedToken",
            "content": "<|endoftext|>",
            "lstrip": false,
            "normalized": true,
            "rstrip": false,
            "single_word": false
          }
        }

        """;

    private const string SpecialTokensMapJson = """
        {
          "bos_token": {
            "content": "<|startoftext|>",
            "lstrip": false,
            "normalized": true,
            "rstrip": false,
            "single_word": false
          },
          "eos_token": {
            "content": "<|endoftext|>",
            "lstrip": false,
            "normalized": true,
            "rstrip": false,
            "single_word": false
          },
          "pad_token": "<|endoftext|>",
          "unk_token": {
            "content": "<|endoftext|>",
            "lstrip": false,
            "normalized": true,
            "rstrip": false,
            "single_word": false
          }
        }

        """;
}
