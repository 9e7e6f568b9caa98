using System.Text.Json;
using DiffusionEngine.Models;

namespace DiffusionEngine.Text;

/// <summary>
/// Reads and cross-checks a BPE model's vocab.json and merges.txt, so that a mismatch is reported with the file and
/// line at fault instead of surfacing later as a wrong token.
/// </summary>
internal static class BpeModelFiles
{
    /// <summary>Reads vocab.json: one JSON object mapping each token to a distinct non-negative id.</summary>
    /// <exception cref="ModelLoadException">The file is missing, is not such an object, or two tokens share an id.</exception>
    public static Dictionary<string, int> ReadVocabulary(string path)
    {
        Dictionary<string, int>? vocabulary;
        try
        {
            using var stream = File.OpenRead(path);
            vocabulary = JsonSerializer.Deserialize<Dictionary<string, int>>(stream);
        }
        catch (FileNotFoundException e)
        {
            throw new ModelLoadException(path, "file is missing", e);
        }
        catch (JsonException e)
        {
            throw new ModelLoadException(path, $"is not a JSON object mapping tokens to integer ids: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException(path, $"cannot be read: {e.Message}", e);
        }

        if (vocabulary is null || vocabulary.Count == 0)
            throw new ModelLoadException(path, "holds no tokens (expected a JSON object mapping tokens to integer ids)");

        var tokenById = new Dictionary<int, string>(vocabulary.Count);
        foreach (var (token, id) in vocabulary)
        {
            if (id < 0)
                throw new ModelLoadException(path, $"token \"{token}\" has the negative id {id}");
            if (!tokenById.TryAdd(id, token))
                throw new ModelLoadException(path, $"id {id} is used by both \"{tokenById[id]}\" and \"{token}\"");
        }

        return vocabulary;
    }

    /// <summary>
    /// Reads merges.txt: an optional "#version" header, then one merge per line ("left right", one space), in rank
    /// order. Each part and their concatenation must be vocabulary tokens.
    /// </summary>
    /// <exception cref="ModelLoadException">The file is missing, a line is malformed, or a merge does not match the vocabulary (the message gives the line number).</exception>
    public static List<string> ReadMerges(string path, IReadOnlyDictionary<string, int> vocabulary, string vocabularyFileName)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (FileNotFoundException e)
        {
            throw new ModelLoadException(path, "file is missing", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException(path, $"cannot be read: {e.Message}", e);
        }

        var merges = new List<string>(lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var lineNumber = i + 1;
            if (line.Length == 0 || (i == 0 && line.StartsWith("#version", StringComparison.Ordinal)))
                continue;

            var space = line.IndexOf(' ');
            if (space <= 0 || space == line.Length - 1 || line.IndexOf(' ', space + 1) >= 0)
                throw new ModelLoadException(path, $"line {lineNumber}: expected two tokens separated by one space but was \"{line}\"");

            var left = line[..space];
            var right = line[(space + 1)..];
            var missing = !vocabulary.ContainsKey(left) ? left
                : !vocabulary.ContainsKey(right) ? right
                : !vocabulary.ContainsKey(left + right) ? left + right
                : null;
            if (missing is not null)
                throw new ModelLoadException(path,
                    $"line {lineNumber}: merge \"{line}\" needs the token \"{missing}\", which is not in {vocabularyFileName}; vocab.json and merges.txt do not belong together");

            merges.Add(line);
        }

        return merges;
    }
}
