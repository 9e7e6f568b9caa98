using System.Text.Json;

namespace DiffusionEngine.Tests.Text;

/// <summary>
/// A temporary tokenizer folder holding transformers' toy CLIP vocabulary (reference-vectors.md §5.3, "T — toy-vocab
/// unit test") in the diffusers layout; tests overwrite or delete single files to cause load errors.
/// </summary>
internal sealed class ToyTokenizerFolder : IDisposable
{
    public static readonly string[] Vocabulary =
    [
        "l", "o", "w", "e", "r", "s", "t", "i", "d", "n", "lo", "l</w>", "w</w>", "r</w>", "t</w>", "low</w>", "er</w>",
        "lowest</w>", "newer</w>", "wider", "<unk>", "<|startoftext|>", "<|endoftext|>",
    ];

    public const string Merges = "#version: 0.2\nl o\nlo w</w>\ne r</w>\n";

    public ToyTokenizerFolder(int maxLength = 16)
    {
        Path = Directory.CreateTempSubdirectory("clip-toy-").FullName;
        Write("vocab.json", JsonSerializer.Serialize(Vocabulary.Select((token, id) => (token, id)).ToDictionary(p => p.token, p => p.id)));
        Write("merges.txt", Merges);
        Write("tokenizer_config.json",
            $$"""{"model_max_length": {{maxLength}}, "bos_token": "<|startoftext|>", "eos_token": {"content": "<|endoftext|>"}, "pad_token": "<|endoftext|>", "unk_token": "<unk>"}""");
        Write("special_tokens_map.json", """{"pad_token": "<unk>"}""");
    }

    public string Path { get; }

    public string FileOf(string name) => System.IO.Path.Combine(Path, name);

    public void Write(string name, string content) => File.WriteAllText(FileOf(name), content);

    public void Delete(string name) => File.Delete(FileOf(name));

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}
