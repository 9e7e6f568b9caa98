using System.Globalization;
using DiffusionEngine.Text.Prompts;

namespace DiffusionEngine.Tests.Text.Prompts;

/// <summary>
/// <see cref="PromptAttention.Parse"/> against A1111's own examples (the doctests of
/// <c>modules/prompt_parser.py</c> <c>parse_prompt_attention</c>, copied as data with their printed output) and the rules
/// its code implies for BREAK, escapes, unbalanced brackets and merging.
/// </summary>
public sealed class PromptAttentionTests
{
    // Fragments as A1111's doctest prints them: [['text', weight], ...] with Python's repr of each float (A1111 prints
    // the BREAK marker's int -1 as "-1"; it compares equal to the -1.0 written here).
    private static string Format(IReadOnlyList<PromptFragment> fragments) =>
        "[" + string.Join(", ", fragments.Select(f => $"['{f.Text}', {PythonRepr(f.Weight)}]")) + "]";

    private static string PythonRepr(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.Contains('.') || text.Contains('E') ? text : text + ".0";
    }

    public static TheoryData<string, string> A1111DocstringExamples() => new()
    {
        { "normal text", "[['normal text', 1.0]]" },
        { "an (important) word", "[['an ', 1.0], ['important', 1.1], [' word', 1.0]]" },
        { "(unbalanced", "[['unbalanced', 1.1]]" },
        { @"\(literal\]", "[['(literal]', 1.0]]" },
        { "(unnecessary)(parens)", "[['unnecessaryparens', 1.1]]" },
        {
            "a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).",
            "[['a ', 1.0], ['house', 1.5730000000000004], [' ', 1.1], ['on', 1.0], [' a ', 1.1], ['hill', 0.55], " +
            "[', sun, ', 1.1], ['sky', 1.4641000000000006], ['.', 1.1]]"
        },
    };

    [Theory]
    [MemberData(nameof(A1111DocstringExamples))]
    public void Parse_ReproducesA1111DocstringExamples(string prompt, string expected)
    {
        Assert.Equal(expected, Format(PromptAttention.Parse(prompt)));
    }

    public static TheoryData<string, string> RulesOfTheCode() => new()
    {
        // Empty input is one empty fragment; a lone "(" opens a bracket around nothing.
        { "", "[['', 1.0]]" },
        { "(", "[['', 1.0]]" },
        // Square brackets divide; nesting multiplies in closing order.
        { "[faded]", "[['faded', 0.9090909090909091]]" },
        { "[[faded]]", "[['faded', 0.8264462809917354]]" },
        { "((a:1.5))", "[['a', 1.6500000000000001]]" },
        { "[a (b) c]", "[['a ', 0.9090909090909091], ['b', 1.0], [' c', 0.9090909090909091]]" },
        // An explicit weight may be signed, start with a dot, end with one, or be zero.
        { "(a:-0.5) (b:.5) (c:2.) (d:0)", "[['a', -0.5], [' ', 1.0], ['b', 0.5], [' ', 1.0], ['c', 2.0], [' ', 1.0], ['d', 0.0]]" },
        // Closers with nothing open, and ":w)" outside round brackets, are text.
        { "a) b] c", "[['a) b] c', 1.0]]" },
        { "x:1.2) y", "[['x:1.2) y', 1.0]]" },
        { "[x:1.2]", "[['x:1.2', 0.9090909090909091]]" },
        // Colons that are not a weight are text.
        { "(a:b)", "[['a:b', 1.1]]" },
        { "time: 12:30", "[['time: 12:30', 1.0]]" },
        // Escapes, an escaped backslash, and a lone backslash (dropped).
        { @"\(a\) \[b\]", "[['(a) [b]', 1.0]]" },
        { @"a\\b", @"[['a\b', 1.0]]" },
        { @"a\b", "[['ab', 1.0]]" },
        { @"(\(a\))", "[['(a)', 1.1]]" },
        // Unclosed square and round brackets apply to the end, round ones first.
        { "[a (b", "[['a ', 0.9090909090909091], ['b', 1.0]]" },
        // Equal weights merge even across brackets.
        { "(a)(b) (c:1.1)", "[['ab', 1.1], [' ', 1.0], ['c', 1.1]]" },
    };

    [Theory]
    [MemberData(nameof(RulesOfTheCode))]
    public void Parse_FollowsTheRulesOfA1111sCode(string prompt, string expected)
    {
        Assert.Equal(expected, Format(PromptAttention.Parse(prompt)));
    }

    [Fact]
    public void Parse_Break_BecomesAMarkerAndEatsTheSpacesAroundIt()
    {
        var fragments = PromptAttention.Parse("a fox BREAK forest at dusk");

        Assert.Equal("[['a fox', 1.0], ['BREAK', -1.0], ['forest at dusk', 1.0]]", Format(fragments));
        Assert.True(fragments[1].IsBreak);
    }

    [Theory]
    [InlineData("a BREAK", "[['a', 1.0], ['BREAK', -1.0], ['', 1.0]]")]
    [InlineData("BREAK", "[['', 1.0], ['BREAK', -1.0], ['', 1.0]]")]
    [InlineData("a BREAK BREAK b", "[['a', 1.0], ['BREAK', -1.0], ['', 1.0], ['BREAK', -1.0], ['b', 1.0]]")]
    [InlineData("a (b) BREAK c", "[['a ', 1.0], ['b', 1.1], ['', 1.0], ['BREAK', -1.0], ['c', 1.0]]")]
    public void Parse_Break_KeepsTheEmptyFragmentsA1111Keeps(string prompt, string expected)
    {
        Assert.Equal(expected, Format(PromptAttention.Parse(prompt)));
    }

    [Theory]
    [InlineData("aBREAK b")]
    [InlineData("BREAKING news")]
    [InlineData("break the rules")]
    [InlineData("BREAK_x")]
    public void Parse_BreakOnlyAsAWholeUpperCaseWord(string prompt)
    {
        var fragments = PromptAttention.Parse(prompt);

        Assert.Equal([new PromptFragment(prompt, 1.0)], fragments);
    }

    [Fact]
    public void Parse_BreakInsideBrackets_IsMultipliedAndStopsBeingABreak()
    {
        // multiply_range covers the ["BREAK", -1] marker too: A1111 then tokenizes it as the word, weight -1.1.
        var fragments = PromptAttention.Parse("(a BREAK b)");

        Assert.Equal("[['a', 1.1], ['BREAK', -1.1], ['b', 1.1]]", Format(fragments));
        Assert.False(fragments[1].IsBreak);
    }

    [Fact]
    public void Parse_WeightWithUnicodeDigits_IsReadAsPythonsFloatReadsIt()
    {
        Assert.Equal([new PromptFragment("a", 1.5)], PromptAttention.Parse("(a:\u0661.\u0665)"));
    }

    [Theory]
    [InlineData("(a:1.2.3)", "1.2.3")]
    [InlineData("(a:.)", "\".\"")]
    [InlineData("(a:+..)", "+..")]
    public void Parse_WeightThatIsNotANumber_ThrowsNamingIt(string prompt, string named)
    {
        var error = Assert.Throws<ArgumentException>(() => PromptAttention.Parse(prompt));

        Assert.Contains(named, error.Message);
        Assert.Contains("is not a number", error.Message);
    }

    [Fact]
    public void Parse_WeightBeyondDoubleRange_ThrowsInsteadOfInfinity()
    {
        var error = Assert.Throws<ArgumentException>(() => PromptAttention.Parse("(a:" + new string('9', 400) + ")"));

        Assert.Contains("too large", error.Message);
    }
}
