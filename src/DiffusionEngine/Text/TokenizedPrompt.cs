namespace DiffusionEngine.Text;

/// <summary>
/// A prompt as token ids, before padding: BOS, the content ids that fit, EOS.
/// </summary>
/// <param name="Ids">BOS + content ids + EOS, after truncation to the tokenizer's max length (EOS is always last).</param>
/// <param name="Count">Number of <paramref name="Ids"/>.</param>
/// <param name="Truncated">True when content ids were dropped to fit the max length.</param>
/// <param name="UntruncatedCount">How many ids (with BOS and EOS) the whole prompt would need.</param>
public sealed record TokenizedPrompt(IReadOnlyList<int> Ids, int Count, bool Truncated, int UntruncatedCount);
