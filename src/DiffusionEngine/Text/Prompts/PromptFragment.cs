namespace DiffusionEngine.Text.Prompts;

/// <summary>
/// A run of prompt text and its attention weight: one <c>[text, weight]</c> pair of A1111's
/// <c>parse_prompt_attention</c>. A chunk break is the pair <c>("BREAK", -1)</c>, exactly as A1111 marks it.
/// </summary>
/// <param name="Text">The literal text, escapes resolved (<c>\(</c> is "(").</param>
/// <param name="Weight">
/// The product of every bracket multiplier around the text (1.0 outside brackets), in double precision as A1111 computes
/// it; the chunker stores it per token as float32, as A1111's multiplier tensor does.
/// </param>
public readonly record struct PromptFragment(string Text, double Weight)
{
    /// <summary>The text of a chunk-break marker.</summary>
    public const string BreakText = "BREAK";

    /// <summary>The weight of a chunk-break marker.</summary>
    public const double BreakWeight = -1;

    /// <summary>The marker that ends the current chunk.</summary>
    public static PromptFragment Break { get; } = new(BreakText, BreakWeight);

    /// <summary>
    /// True for the chunk-break marker. As in A1111 a BREAK inside brackets has had its weight multiplied, so it is no
    /// longer a break but the text "BREAK" with a negative weight; the chunker then encodes it as text.
    /// </summary>
    public bool IsBreak => Weight == BreakWeight && Text == BreakText;
}
