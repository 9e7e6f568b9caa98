namespace DiffusionEngine.Text;

/// <summary>A special token's text and the file that named it (for error messages).</summary>
internal sealed record SpecialToken(string Content, string Source);
