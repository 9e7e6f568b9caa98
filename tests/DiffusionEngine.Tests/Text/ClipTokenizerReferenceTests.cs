using DiffusionEngine.Tests.TestSupport;
using DiffusionEngine.Text;

namespace DiffusionEngine.Tests.Text;

/// <summary>
/// The real SD 1.5 / CLIP ViT-L/14 vocabulary from ../shared/data/clip against reference-vectors.md §5.3
/// (prompt → ids with BOS and EOS, before padding) and the equivalences listed there.
/// </summary>
public sealed class ClipTokenizerReferenceTests
{
    private const int Bos = 49406;
    private const int Eos = 49407;

    // Loaded once for the whole class: the tokenizer is immutable and meant to be reused.
    private static readonly Lazy<ClipTokenizer> Clip = new(() => ClipTokenizer.Load(SharedData.PathOf("clip")));

    public static TheoryData<string, int[]> ReferencePairs() => new()
    {
        // §5.3 table, rows 1–26.
        { "a photo of a cat", [Bos, 320, 1125, 539, 320, 2368, Eos] },
        { "a photo of a dog", [Bos, 320, 1125, 539, 320, 1929, Eos] },
        { "A PHOTO of  a Cat!", [Bos, 320, 1125, 539, 320, 2368, 256, Eos] },
        { "cafe uber naive", [Bos, 4979, 10668, 43362, Eos] },
        { "  spaced   out  ", [Bos, 10336, 538, 620, Eos] },
        { "Hello, world!", [Bos, 3306, 267, 1002, 256, Eos] },
        { "don't stop", [Bos, 847, 713, 1691, Eos] },
        // Row 11: we follow HF fast / OpenAI (CJK letter runs BPE'd whole), not the slow-without-ftfy ids of the table.
        { "\u65e5\u672c\u306e\u77f3\u706f\u7c60", [Bos, 39121, 44353, 21575, 163, 253, 111, 163, 223, 107, 163, 109, 510, Eos] },
        { "\U0001F600 red car", [Bos, 7334, 736, 1615, Eos] },
        { "35mm photography", [Bos, 274, 276, 2848, 2108, Eos] },
        { "Japanese stone lantern", [Bos, 4925, 2441, 17185, Eos] },
        { "", [Bos, Eos] },
        { "    \t\n", [Bos, Eos] },
        { "\U0001F600 \U0001F603 \U0001F604", [Bos, 7334, 8520, 7624, Eos] },
        { "cat", [Bos, 2368, Eos] },
        { "dog", [Bos, 1929, Eos] },
        { "car", [Bos, 1615, Eos] },
        { "beach", [Bos, 2117, Eos] },
        { "sunset", [Bos, 3424, Eos] },
        { "a dog in the snow", [Bos, 320, 1929, 530, 518, 2583, Eos] },
        // §5.3 derived extras (HF fast semantics).
        { "PHOTO'S of I'LL", [Bos, 1125, 568, 539, 328, 1342, Eos] },
        { "text with <|startoftext|> in the middle", [Bos, 4160, 593, Bos, 530, 518, 3694, Eos] },
        { "<|endoftext|>", [Bos, Eos, Eos] },
        { "don\u2019t stop", [Bos, 847, 728, 503, 339, 1691, Eos] },
        { "xa\u0303y x\u00e3y", [Bos, 87, 19339, 344, 87, 19339, 344, Eos] },
    };

    [SharedDataTheory]
    [MemberData(nameof(ReferencePairs))]
    public void Encode_ReproducesReferenceIds(string prompt, int[] expected)
    {
        var result = Clip.Value.Encode(prompt);

        Assert.Equal(expected, result.Ids);
        Assert.Equal(expected.Length, result.Count);
        Assert.False(result.Truncated);
        Assert.Equal(expected.Length, result.UntruncatedCount);
    }

    public static TheoryData<string, string> Equivalences() => new()
    {
        // S: whitespace runs and case do not matter.
        { "a photo of a cat", "    a    photo  of  a cat    " },
        { "a photo of a cat", "A pHotO of a CaT" },
        // NFC: a decomposed "ã" equals the precomposed one.
        { "xa\u0303y", "x\u00e3y" },
        // Whitespace-like characters and line breaks separate words exactly as a space does.
        { "red car", "red\tcar" },
        { "red car", "red\vcar" },
        { "red car", "red\fcar" },
        { "red car", "red\ncar" },
        { "red car", "red\r\ncar" },
        { "red car", "red\rcar" },
        { "red car", "red\u2028car" },
        { "red car", "red\u2029car" },
    };

    [SharedDataTheory]
    [MemberData(nameof(Equivalences))]
    public void Encode_GivesSameIdsForEquivalentPrompts(string left, string right) =>
        Assert.Equal(Clip.Value.Encode(left).Ids, Clip.Value.Encode(right).Ids);

    [SharedDataFact]
    public void Load_ReadsSd15SpecialIdsAndLength()
    {
        var clip = Clip.Value;

        Assert.Equal(77, clip.MaxLength);
        Assert.Equal(Bos, clip.BosId);
        Assert.Equal(Eos, clip.EosId);
        Assert.Equal(Eos, clip.PadId);
    }

    [SharedDataFact]
    public void EncodeToIds_LongPrompt_HasNoSpecialTokensAndNoTruncation()
    {
        Assert.Equal(Enumerable.Repeat(320, 100), Clip.Value.EncodeToIds(string.Join(' ', Enumerable.Repeat("a", 100))));
        Assert.Equal(267, Clip.Value.CommaId);
    }

    [SharedDataFact]
    public void EncodePadded_EmptyPrompt_IsBosThenEosRepeatedToMaxLength()
    {
        var ids = new long[77];

        var prompt = Clip.Value.EncodePadded("", ids);

        Assert.Equal([Bos, Eos], prompt.Ids);
        Assert.Equal(Bos, ids[0]);
        Assert.All(ids[1..], id => Assert.Equal(Eos, id));
    }

    [SharedDataFact]
    public void EncodePadded_PadsAfterEosWithPadId()
    {
        var ids = new int[77];

        Clip.Value.EncodePadded("Japanese stone lantern", ids);

        Assert.Equal([Bos, 4925, 2441, 17185, Eos], ids[..5]);
        Assert.All(ids[5..], id => Assert.Equal(Clip.Value.PadId, id));
    }

    [SharedDataFact]
    public void Encode_LongPrompt_KeepsFirst75ContentIdsAndEosLast()
    {
        var prompt = string.Join(' ', Enumerable.Repeat("cat", 100));

        var result = Clip.Value.Encode(prompt);

        Assert.True(result.Truncated);
        Assert.Equal(77, result.Count);
        Assert.Equal(102, result.UntruncatedCount);
        Assert.Equal(Bos, result.Ids[0]);
        Assert.All(result.Ids.Skip(1).Take(75), id => Assert.Equal(2368, id));
        Assert.Equal(Eos, result.Ids[76]);
    }

    [SharedDataFact]
    public void Encode_PromptOfExactly75Tokens_IsNotTruncated()
    {
        var result = Clip.Value.Encode(string.Join(' ', Enumerable.Repeat("cat", 75)));

        Assert.False(result.Truncated);
        Assert.Equal(77, result.Count);
        Assert.Equal(77, result.UntruncatedCount);
    }

    [SharedDataFact]
    public void EncodePadded_TruncatedPrompt_FillsBufferWithoutPadding()
    {
        var ids = new long[77];

        var result = Clip.Value.EncodePadded(string.Join(' ', Enumerable.Repeat("dog", 80)), ids);

        Assert.True(result.Truncated);
        Assert.Equal(Bos, ids[0]);
        Assert.All(ids[1..76], id => Assert.Equal(1929, id));
        Assert.Equal(Eos, ids[76]);
    }

    [SharedDataFact]
    public void Encode_IsCheapOnceLoaded()
    {
        var clip = Clip.Value;
        var ids = new long[clip.MaxLength];
        clip.EncodePadded("warm up", ids);

        // A thousand distinct SD-style prompts: milliseconds in practice; the bound only catches re-reading files.
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 1000; i++)
            clip.EncodePadded($"a photo of a cat number {i}, highly detailed, 8k, trending on artstation", ids);

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"1000 prompts took {stopwatch.Elapsed.TotalMilliseconds:F0} ms");
    }
}
