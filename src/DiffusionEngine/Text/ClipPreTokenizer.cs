using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace DiffusionEngine.Text;

/// <summary>
/// CLIP's pre-tokenizer: special tokens first, then the CLIP pattern (leftmost alternative wins, whitespace dropped):
/// the contractions 's 't 're 've 'm 'll 'd (ASCII apostrophe only), a run of letters, ONE number character,
/// or a run of characters that are neither whitespace, letter nor number.
/// </summary>
internal static partial class ClipPreTokenizer
{
    /// <summary>A pre-tokenizer that cuts <paramref name="specialTokens"/> out whole before applying the CLIP pattern.</summary>
    public static PreTokenizer Create(IReadOnlyDictionary<string, int> specialTokens) =>
        new RegexPreTokenizer(Pattern(), specialTokens);

    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
