namespace DiffusionEngine.TinyModel.Vocabulary;

/// <summary>
/// Learns byte-pair-encoding merges from a word list the way CLIP's vocabulary was built (Sennrich et al. 2016):
/// words start as characters with "&lt;/w&gt;" on the last one; repeatedly the most frequent adjacent pair is merged.
/// Deterministic: ties go to the ordinally smallest pair, and a pair whose concatenation is already a symbol is
/// skipped so that every merge adds exactly one new vocabulary entry.
/// </summary>
internal static class BpeTrainer
{
    public const string EndOfWord = "</w>";

    /// <summary>Learns up to <paramref name="maxMerges"/> merges; stops early when no pair occurs twice.</summary>
    public static IReadOnlyList<(string Left, string Right)> Learn(IReadOnlyList<string> words, int maxMerges, IReadOnlySet<string> initialSymbols)
    {
        // Unique words with counts, in first-seen order (dictionary enumeration order is insertion order here: no removals).
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var word in words) counts[word] = counts.GetValueOrDefault(word) + 1;
        var segmented = new List<(List<string> Symbols, int Count)>();
        foreach (var (word, count) in counts)
        {
            var symbols = new List<string>(word.Length);
            for (var i = 0; i < word.Length; i++)
                symbols.Add(i == word.Length - 1 ? word[i] + EndOfWord : word[i].ToString());
            segmented.Add((symbols, count));
        }

        var known = new HashSet<string>(initialSymbols, StringComparer.Ordinal);
        var merges = new List<(string, string)>();
        while (merges.Count < maxMerges)
        {
            var pairCounts = new Dictionary<(string, string), int>();
            foreach (var (symbols, count) in segmented)
            {
                for (var i = 0; i + 1 < symbols.Count; i++)
                {
                    var pair = (symbols[i], symbols[i + 1]);
                    pairCounts[pair] = pairCounts.GetValueOrDefault(pair) + count;
                }
            }

            (string Left, string Right)? best = null;
            var bestCount = 1;
            foreach (var (pair, count) in pairCounts)
            {
                if (known.Contains(pair.Item1 + pair.Item2)) continue;
                if (count > bestCount || (count == bestCount && best is not null && Compare(pair, best.Value) < 0))
                {
                    best = pair;
                    bestCount = count;
                }
            }
            if (best is null) break;

            var (left, right) = best.Value;
            merges.Add((left, right));
            known.Add(left + right);
            foreach (var (symbols, _) in segmented) Apply(symbols, left, right);
        }
        return merges;
    }

    private static int Compare((string Left, string Right) a, (string Left, string Right) b)
    {
        var left = string.CompareOrdinal(a.Left, b.Left);
        return left != 0 ? left : string.CompareOrdinal(a.Right, b.Right);
    }

    private static void Apply(List<string> symbols, string left, string right)
    {
        for (var i = 0; i + 1 < symbols.Count; i++)
        {
            if (symbols[i] == left && symbols[i + 1] == right)
            {
                symbols[i] = left + right;
                symbols.RemoveAt(i + 1);
            }
        }
    }
}
