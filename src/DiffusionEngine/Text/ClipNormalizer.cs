using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace DiffusionEngine.Text;

/// <summary>
/// CLIP's text normalisation as the Hugging Face fast tokenizer does it: Unicode NFC, every run of whitespace
/// becomes one space, trimmed, lower-cased (invariant culture). No ftfy and no HTML unescaping (see
/// <see cref="ClipTokenizer"/> for the divergences this implies).
/// </summary>
internal sealed partial class ClipNormalizer : Normalizer
{
    public static ClipNormalizer Instance { get; } = new();

    public override string Normalize(string original)
    {
        var text = original.IsNormalized(NormalizationForm.FormC) ? original : original.Normalize(NormalizationForm.FormC);
        return Whitespace().Replace(text, " ").Trim().ToLowerInvariant();
    }

    public override string Normalize(ReadOnlySpan<char> original) => Normalize(original.ToString());

    // .NET's \s is Unicode whitespace (\t \n \v \f \r, U+0085, categories Zs/Zl/Zp), as the tokenizers crate's \s.
    [GeneratedRegex(@"\s+", RegexOptions.CultureInvariant)]
    private static partial Regex Whitespace();
}
