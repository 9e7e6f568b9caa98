namespace DiffusionEngine.Models;

/// <summary>
/// A model folder (or one file in it) cannot be used: it is missing, malformed, or inconsistent with the rest of
/// the folder. The message names the file and says what is wrong, so it can be shown to the user as is.
/// </summary>
public class ModelLoadException : Exception
{
    /// <summary>Creates the exception for <paramref name="filePath"/>.</summary>
    /// <param name="filePath">The file or folder at fault, as the caller named it.</param>
    /// <param name="problem">What is wrong with it, e.g. "line 12: merge part 'ab' is not in vocab.json".</param>
    /// <param name="inner">The underlying failure (I/O, JSON parser, ONNX Runtime), if any.</param>
    public ModelLoadException(string filePath, string problem, Exception? inner = null)
        : base($"{filePath}: {problem}", inner)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The file or folder at fault.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with <see cref="FilePath"/> (the message without the path).</summary>
    public string Problem { get; }
}
