using DiffusionEngine.Text;
using DiffusionEngine.TinyModel.Vocabulary;

namespace DiffusionEngine.Tests.Text.Prompts;

/// <summary>
/// The tiny model's tokenizer (CLIP's format and CLIP's ids for the first 512 tokens: single letters, ",") twice: as
/// the tiny model writes it (pad = EOS, like SD 1.x and SDXL's first tokenizer), and with the pad token "!" (id 0) of
/// OpenCLIP tokenizers (SD 2.x, SDXL's second tokenizer). Written once per test class, deleted afterwards.
/// </summary>
public sealed class TinyTokenizers : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tiny-tokenizers-").FullName;

    public TinyTokenizers()
    {
        var files = ClipVocabularyFiles.Build();
        var eosPadded = Path.Combine(_directory, "eos-padded");
        var openClip = Path.Combine(_directory, "open-clip");
        files.Write(eosPadded);
        files.Write(openClip);
        File.WriteAllText(Path.Combine(openClip, "special_tokens_map.json"), """{"pad_token": "!"}""");
        EosPaddedDirectory = eosPadded;
        EosPadded = ClipTokenizer.Load(eosPadded);
        OpenClip = ClipTokenizer.Load(openClip);
    }

    /// <summary>The folder <see cref="EosPadded"/> was loaded from.</summary>
    public string EosPaddedDirectory { get; }

    /// <summary>Pads with EOS (49407's role; here the vocabulary's last id).</summary>
    public ClipTokenizer EosPadded { get; }

    /// <summary>Pads with "!" (id 0) after the first EOS.</summary>
    public ClipTokenizer OpenClip { get; }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
