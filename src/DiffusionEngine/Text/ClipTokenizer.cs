using DiffusionEngine.Models;
using Microsoft.ML.Tokenizers;

namespace DiffusionEngine.Text;

/// <summary>
/// The CLIP BPE tokenizer of Stable Diffusion's text encoder, built on Microsoft.ML.Tokenizers' byte-level
/// <see cref="BpeTokenizer"/> (end-of-word suffix "&lt;/w&gt;") with CLIP's normaliser and pre-tokenizer regex.
/// </summary>
/// <remarks>
/// <para>Output: <c>[BOS] + content[..MaxLength-2] + [EOS]</c>, then padded to <see cref="MaxLength"/> with
/// <see cref="PadId"/> (diffusers: <c>padding="max_length", truncation=True</c>). Truncation keeps EOS last.</para>
/// <para>Semantics follow the Hugging Face <em>fast</em> tokenizer (transformers v5), one of the three reference
/// behaviours in reference-vectors.md §5.4: NFC, whitespace runs collapsed, lower-cased; no ftfy and no HTML
/// unescaping. Consequences: CJK text is BPE'd as whole letter runs (as fast/OpenAI do, not one character at a time
/// as the slow tokenizer without ftfy does); a curly apostrophe (U+2019) is not turned into "'" (ftfy paths would);
/// the literal text "&lt;|endoftext|&gt;" in a prompt becomes its special id (as HF and OpenAI do).
/// Two .NET-specific deviations, both outside what SD prompts normally contain: lower-casing is the invariant
/// simple case mapping (HF uses full Unicode lower-casing, which differs for a few characters such as U+0130), and
/// letters/digits outside the Basic Multilingual Plane (surrogate pairs, e.g. CJK Extension B) are not matched by
/// the regex's \p{L}/\p{N}, so they group with adjacent symbols instead of adjacent letters.</para>
/// <para>Thread-safety: immutable after <see cref="Load"/>; <see cref="Encode"/> may be called concurrently.
/// Load once per model and reuse it: encoding reads no files and reuses the BPE word cache.</para>
/// </remarks>
public sealed class ClipTokenizer
{
    private readonly BpeTokenizer _bpe;

    private ClipTokenizer(BpeTokenizer bpe, int maxLength, int bosId, int eosId, int padId, int? commaId)
    {
        _bpe = bpe;
        MaxLength = maxLength;
        BosId = bosId;
        EosId = eosId;
        PadId = padId;
        CommaId = commaId;
    }

    /// <summary>Sequence length of the text encoder (tokenizer_config.json model_max_length; 77 for SD).</summary>
    public int MaxLength { get; }

    /// <summary>Id of the beginning-of-text token (49406 for CLIP).</summary>
    public int BosId { get; }

    /// <summary>Id of the end-of-text token (49407 for CLIP).</summary>
    public int EosId { get; }

    /// <summary>Id used to pad to <see cref="MaxLength"/>: 49407 for SD 1.x, 0 ("!") for OpenCLIP tokenizers.</summary>
    public int PadId { get; }

    /// <summary>
    /// Id of the word-final comma token ",&lt;/w&gt;" (267 for CLIP), where long prompts prefer to break between chunks;
    /// null when the vocabulary has no such token.
    /// </summary>
    public int? CommaId { get; }

    /// <summary>
    /// Loads a tokenizer folder in the diffusers layout: vocab.json, merges.txt, tokenizer_config.json
    /// (model_max_length, special tokens) and, when present, special_tokens_map.json (overrides the config's tokens).
    /// </summary>
    /// <param name="tokenizerDirectory">The model's <c>tokenizer</c> folder.</param>
    /// <exception cref="ModelLoadException">
    /// The folder or a required file is missing; a JSON file is malformed; a merges.txt line names a token (or
    /// produces one) that vocab.json lacks (the message gives the line); a special token is not in the vocabulary.
    /// </exception>
    public static ClipTokenizer Load(string tokenizerDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(tokenizerDirectory);
        if (!Directory.Exists(tokenizerDirectory))
            throw new ModelLoadException(tokenizerDirectory, "tokenizer folder does not exist");

        var vocabPath = Path.Combine(tokenizerDirectory, "vocab.json");
        var mergesPath = Path.Combine(tokenizerDirectory, "merges.txt");
        var settings = ClipTokenizerSettings.Read(
            Path.Combine(tokenizerDirectory, "tokenizer_config.json"),
            Path.Combine(tokenizerDirectory, "special_tokens_map.json"));
        var vocabulary = BpeModelFiles.ReadVocabulary(vocabPath);
        var merges = BpeModelFiles.ReadMerges(mergesPath, vocabulary, "vocab.json");

        int IdOf(string role, SpecialToken token) =>
            vocabulary.TryGetValue(token.Content, out var id)
                ? id
                : throw new ModelLoadException(vocabPath, $"{role} \"{token.Content}\" (from {token.Source}) is not in the vocabulary");

        var bosId = IdOf("bos_token", settings.Bos);
        var eosId = IdOf("eos_token", settings.Eos);
        var padId = IdOf("pad_token", settings.Pad);
        IdOf("unk_token", settings.Unknown);

        // Special tokens written literally in a prompt map to their ids (HF added tokens). The pad token is not one:
        // for OpenCLIP tokenizers it is "!", an ordinary character.
        var specialTokens = new Dictionary<string, int>
        {
            [settings.Bos.Content] = bosId,
            [settings.Eos.Content] = eosId,
        };
        specialTokens.TryAdd(settings.Unknown.Content, vocabulary[settings.Unknown.Content]);

        BpeTokenizer bpe;
        try
        {
            bpe = BpeTokenizer.Create(new BpeOptions(vocabulary)
            {
                Merges = merges,
                SpecialTokens = specialTokens,
                Normalizer = ClipNormalizer.Instance,
                PreTokenizer = ClipPreTokenizer.Create(specialTokens),
                UnknownToken = settings.Unknown.Content,
                EndOfWordSuffix = "</w>",
                ByteLevel = true,
            });
        }
        catch (InvalidOperationException e)
        {
            throw new ModelLoadException(tokenizerDirectory, $"vocab.json and merges.txt cannot form a BPE model: {e.Message}", e);
        }

        int? commaId = vocabulary.TryGetValue(",</w>", out var comma) ? comma : null;
        return new ClipTokenizer(bpe, settings.MaxLength, bosId, eosId, padId, commaId);
    }

    /// <summary>
    /// The content ids of <paramref name="text"/>: no BOS, no EOS, no truncation (transformers'
    /// <c>add_special_tokens=False, truncation=False</c>). For prompts longer than one window, split into chunks.
    /// </summary>
    public IReadOnlyList<int> EncodeToIds(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _bpe.EncodeToIds(text);
    }

    /// <summary>Tokenizes <paramref name="text"/>: BOS, as many content ids as fit in <see cref="MaxLength"/>, EOS; no padding.</summary>
    public TokenizedPrompt Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var content = _bpe.EncodeToIds(text);
        var room = MaxLength - 2;
        var kept = Math.Min(content.Count, room);

        var ids = new int[kept + 2];
        ids[0] = BosId;
        for (var i = 0; i < kept; i++) ids[i + 1] = content[i];
        ids[^1] = EosId;
        return new TokenizedPrompt(ids, ids.Length, content.Count > room, content.Count + 2);
    }

    /// <summary>
    /// Tokenizes <paramref name="text"/> into <paramref name="destination"/> (length <see cref="MaxLength"/>):
    /// the ids of <see cref="Encode"/>, then <see cref="PadId"/> up to the end. The caller owns the buffer.
    /// </summary>
    /// <returns>The unpadded tokenization, e.g. to report truncation.</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not <see cref="MaxLength"/> long.</exception>
    public TokenizedPrompt EncodePadded(string text, Span<long> destination)
    {
        CheckDestination(destination.Length);
        var prompt = Encode(text);
        for (var i = 0; i < prompt.Count; i++) destination[i] = prompt.Ids[i];
        destination[prompt.Count..].Fill(PadId);
        return prompt;
    }

    /// <inheritdoc cref="EncodePadded(string, Span{long})"/>
    /// <remarks>For text encoders exported with int32 input_ids (diffusers' ONNX export).</remarks>
    public TokenizedPrompt EncodePadded(string text, Span<int> destination)
    {
        CheckDestination(destination.Length);
        var prompt = Encode(text);
        for (var i = 0; i < prompt.Count; i++) destination[i] = prompt.Ids[i];
        destination[prompt.Count..].Fill(PadId);
        return prompt;
    }

    private void CheckDestination(int length)
    {
        if (length != MaxLength)
            throw new ArgumentException($"destination must hold MaxLength = {MaxLength} ids but holds {length}", "destination");
    }
}
