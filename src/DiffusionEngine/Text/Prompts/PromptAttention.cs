using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace DiffusionEngine.Text.Prompts;

/// <summary>
/// A1111's attention syntax (<c>modules/prompt_parser.py</c>, <c>parse_prompt_attention</c>), reproduced rule for rule:
/// <list type="bullet">
/// <item><c>(text)</c> multiplies the weight of text by 1.1, <c>[text]</c> divides it by 1.1, <c>(text:w)</c> multiplies
/// it by w; nested brackets multiply (in the order they close, so the doubles equal A1111's).</item>
/// <item><c>\(</c> <c>\)</c> <c>\[</c> <c>\]</c> <c>\\</c> are the literal characters; a lone backslash is dropped.</item>
/// <item>A <c>)</c> or <c>]</c> with nothing open, and <c>:w)</c> outside round brackets, are literal text; brackets
/// still open at the end apply from where they opened to the end (round ones first, then square ones).</item>
/// <item>The word <c>BREAK</c> (upper case, whole word) with the whitespace around it becomes
/// <see cref="PromptFragment.Break"/>.</item>
/// <item>Adjacent fragments of exactly equal weight are merged; an empty prompt is one empty fragment of weight 1.</item>
/// </list>
/// Deviations, both for input on which A1111 fails or produces NaN: a weight that is not a number (<c>(x:1.2.3)</c>,
/// <c>(x:.)</c>, on which Python's float() raises) and a weight too large for a double (which A1111 turns into
/// infinity) are rejected with an <see cref="ArgumentException"/>. Regex classes (<c>\s</c>, <c>\b</c>, <c>\d</c>) follow
/// .NET's Unicode definitions, which differ from Python's only for rare control and combining characters.
/// </summary>
public static partial class PromptAttention
{
    /// <summary>The factor of one pair of round brackets (A1111's <c>round_bracket_multiplier</c>).</summary>
    public const double RoundBracketMultiplier = 1.1;

    /// <summary>The factor of one pair of square brackets (A1111's <c>square_bracket_multiplier</c>).</summary>
    public const double SquareBracketMultiplier = 1 / 1.1;

    /// <summary>Splits <paramref name="prompt"/> into text fragments with their weights, as A1111 does.</summary>
    /// <returns>At least one fragment; chunk breaks appear as <see cref="PromptFragment.Break"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="prompt"/> is null.</exception>
    /// <exception cref="ArgumentException">A <c>(text:w)</c> weight is not a finite number.</exception>
    public static IReadOnlyList<PromptFragment> Parse(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var result = new List<PromptFragment>();
        var roundBrackets = new List<int>();
        var squareBrackets = new List<int>();

        for (var match = Attention().Match(prompt); match.Success; match = match.NextMatch())
        {
            var text = match.Value;
            var weight = match.Groups[1];
            if (text[0] == '\\')
            {
                result.Add(new PromptFragment(text[1..], 1.0));
            }
            else if (text == "(")
            {
                roundBrackets.Add(result.Count);
            }
            else if (text == "[")
            {
                squareBrackets.Add(result.Count);
            }
            else if (weight.Success && roundBrackets.Count > 0)
            {
                MultiplyFrom(result, Pop(roundBrackets), ParseWeight(weight.Value, text));
            }
            else if (text == ")" && roundBrackets.Count > 0)
            {
                MultiplyFrom(result, Pop(roundBrackets), RoundBracketMultiplier);
            }
            else if (text == "]" && squareBrackets.Count > 0)
            {
                MultiplyFrom(result, Pop(squareBrackets), SquareBracketMultiplier);
            }
            else
            {
                var parts = BreakKeyword().Split(text);
                for (var i = 0; i < parts.Length; i++)
                {
                    if (i > 0) result.Add(PromptFragment.Break);
                    result.Add(new PromptFragment(parts[i], 1.0));
                }
            }
        }

        foreach (var start in roundBrackets) MultiplyFrom(result, start, RoundBracketMultiplier);
        foreach (var start in squareBrackets) MultiplyFrom(result, start, SquareBracketMultiplier);

        if (result.Count == 0) return [new PromptFragment("", 1.0)];
        return MergeEqualWeights(result);
    }

    private static int Pop(List<int> stack)
    {
        var top = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return top;
    }

    // A1111's multiply_range: every fragment since the bracket opened, including BREAK markers (which then stop being breaks).
    private static void MultiplyFrom(List<PromptFragment> fragments, int start, double multiplier)
    {
        for (var i = start; i < fragments.Count; i++)
            fragments[i] = fragments[i] with { Weight = fragments[i].Weight * multiplier };
    }

    private static List<PromptFragment> MergeEqualWeights(List<PromptFragment> fragments)
    {
        var merged = new List<PromptFragment>(fragments.Count);
        var text = new StringBuilder();
        var weight = fragments[0].Weight;
        text.Append(fragments[0].Text);
        for (var i = 1; i < fragments.Count; i++)
        {
            if (fragments[i].Weight == weight)
            {
                text.Append(fragments[i].Text);
                continue;
            }
            merged.Add(new PromptFragment(text.ToString(), weight));
            text.Clear().Append(fragments[i].Text);
            weight = fragments[i].Weight;
        }
        merged.Add(new PromptFragment(text.ToString(), weight));
        return merged;
    }

    // Python's float() on what the regex admits ([+-]?[.\d]+, where \d is any Unicode decimal digit, as Python accepts).
    private static double ParseWeight(string digits, string bracketText)
    {
        var ascii = new StringBuilder(digits.Length);
        foreach (var c in digits)
            ascii.Append(char.IsDigit(c) ? (char)('0' + (int)char.GetNumericValue(c)) : c);
        if (!double.TryParse(ascii.ToString(), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var weight))
            throw new ArgumentException($"prompt weight \"{digits}\" in \"{bracketText}\" is not a number", "prompt");
        if (!double.IsFinite(weight))
            throw new ArgumentException($"prompt weight \"{digits}\" in \"{bracketText}\" is too large", "prompt");
        return weight;
    }

    // A1111's re_attention, alternative for alternative: escapes, an escaped or lone backslash, openers, ":weight)",
    // closers, a run of plain text, a lone colon.
    [GeneratedRegex(@"\\\(|\\\)|\\\[|\\]|\\\\|\\|\(|\[|:([+-]?[.\d]+)\)|\)|]|[^\\()\[\]:]+|:", RegexOptions.CultureInvariant)]
    private static partial Regex Attention();

    // A1111's re_break.
    [GeneratedRegex(@"\s*\bBREAK\b\s*", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex BreakKeyword();
}
