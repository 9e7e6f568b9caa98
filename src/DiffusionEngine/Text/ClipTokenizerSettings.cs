using System.Text.Json;
using DiffusionEngine.Models;

namespace DiffusionEngine.Text;

/// <summary>
/// What tokenizer_config.json and special_tokens_map.json say about the special tokens and the sequence length.
/// As in transformers, a token named in special_tokens_map.json overrides the one in tokenizer_config.json;
/// tokens named in neither take CLIPTokenizer's defaults (pad = unk = "&lt;|endoftext|&gt;").
/// </summary>
/// <param name="MaxLength">model_max_length: the text encoder's sequence length (77 for SD 1.x/2.x/XL).</param>
/// <param name="Bos">The beginning-of-text token.</param>
/// <param name="Eos">The end-of-text token.</param>
/// <param name="Pad">The token that pads to <paramref name="MaxLength"/>.</param>
/// <param name="Unknown">The token for text the vocabulary cannot express (never needed for byte-level input).</param>
internal sealed record ClipTokenizerSettings(
    int MaxLength, SpecialToken Bos, SpecialToken Eos, SpecialToken Pad, SpecialToken Unknown)
{
    /// <summary>Sequence length when the config does not say: CLIP text encoders have 77 positions.</summary>
    public const int DefaultMaxLength = 77;

    /// <exception cref="ModelLoadException">A file is missing or malformed, or model_max_length is not a usable length.</exception>
    public static ClipTokenizerSettings Read(string tokenizerConfigPath, string specialTokensMapPath)
    {
        using var config = ReadJsonObject(tokenizerConfigPath, required: true)!;
        using var map = ReadJsonObject(specialTokensMapPath, required: false);

        var maxLength = DefaultMaxLength;
        if (config.RootElement.TryGetProperty("model_max_length", out var lengthElement))
        {
            // Tokenizers without a limit store a huge float (1e30); a CLIP text encoder never has one.
            if (lengthElement.ValueKind != JsonValueKind.Number || !lengthElement.TryGetInt32(out maxLength) || maxLength is < 3 or > 4096)
                throw new ModelLoadException(tokenizerConfigPath,
                    $"model_max_length must be an integer between 3 and 4096 but was {lengthElement.GetRawText()}");
        }

        SpecialToken Token(string key, string fallback) =>
            TokenFrom(map, specialTokensMapPath, key)
            ?? TokenFrom(config, tokenizerConfigPath, key)
            ?? new SpecialToken(fallback, "the CLIPTokenizer default");

        var eos = Token("eos_token", "<|endoftext|>");
        return new ClipTokenizerSettings(
            maxLength,
            Token("bos_token", "<|startoftext|>"),
            eos,
            Token("pad_token", "<|endoftext|>"),
            Token("unk_token", "<|endoftext|>"));
    }

    private static JsonDocument? ReadJsonObject(string path, bool required)
    {
        if (!File.Exists(path))
            return required ? throw new ModelLoadException(path, "file is missing") : null;

        JsonDocument document;
        try
        {
            using var stream = File.OpenRead(path);
            document = JsonDocument.Parse(stream);
        }
        catch (JsonException e)
        {
            throw new ModelLoadException(path, $"is not valid JSON: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException(path, $"cannot be read: {e.Message}", e);
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            var kind = document.RootElement.ValueKind;
            document.Dispose();
            throw new ModelLoadException(path, $"must hold a JSON object but holds a JSON {kind}");
        }

        return document;
    }

    // A token is written either as a plain string or as an AddedToken object {"content": "...", ...}.
    private static SpecialToken? TokenFrom(JsonDocument? document, string path, string key)
    {
        if (document is null || !document.RootElement.TryGetProperty(key, out var element) || element.ValueKind == JsonValueKind.Null)
            return null;
        if (element.ValueKind == JsonValueKind.String)
            return new SpecialToken(element.GetString()!, Path.GetFileName(path));
        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
            return new SpecialToken(content.GetString()!, Path.GetFileName(path));
        throw new ModelLoadException(path, $"{key} must be a string or an object with a \"content\" string but was {element.GetRawText()}");
    }
}
