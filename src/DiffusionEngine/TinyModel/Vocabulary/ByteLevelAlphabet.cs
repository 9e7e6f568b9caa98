namespace DiffusionEngine.TinyModel.Vocabulary;

/// <summary>
/// GPT-2/CLIP byte-level alphabet: every byte maps to one printable character. Bytes 33–126, 161–172 and 174–255
/// map to the same code point; the other 68 bytes map, in ascending order, to U+0100, U+0101, …
/// <see cref="Characters"/> is in CLIP's vocabulary order (the printable ranges first, then the remapped bytes).
/// </summary>
internal static class ByteLevelAlphabet
{
    /// <summary>The 256 byte characters in CLIP vocabulary order.</summary>
    public static IReadOnlyList<string> Characters { get; } = Build();

    private static string[] Build()
    {
        var characters = new List<string>(256);
        var isPrintable = new bool[256];
        for (var b = 0; b < 256; b++)
        {
            isPrintable[b] = b is >= 33 and <= 126 or >= 161 and <= 172 or >= 174 and <= 255;
            if (isPrintable[b]) characters.Add(((char)b).ToString());
        }
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            if (!isPrintable[b]) characters.Add(((char)next++).ToString());
        }
        return characters.ToArray();
    }
}
