using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace DiffusionEngine.Optimization;

/// <summary>
/// Optimised copies of model folders under a cache directory, one per (source files' contents, ONNX Runtime version,
/// optimizer version, options): a changed weight file, another ORT build or other options give another key, so a
/// stale copy is never used. A copy is written under a temporary name and renamed into place, so a crash or a
/// concurrent process never leaves (or sees) a half-written one. Content hashes (SHA-256) are remembered per
/// (path, size, modification time) in <see cref="HashMemoFileName"/>, so a restart does not read gigabytes again.
/// </summary>
public static class OptimizedModelCache
{
    /// <summary>Bumped whenever a rewrite changes what it produces, so older cached copies are not reused.</summary>
    public const int OptimizerVersion = 1;

    public const string HashMemoFileName = "source-hashes.json";

    /// <summary>
    /// The optimised copy of <paramref name="sourceDirectory"/> for <paramref name="options"/> under
    /// <paramref name="cacheRoot"/>, written first when missing; <paramref name="written"/> says whether it was.
    /// </summary>
    public static string GetOrCreate(string sourceDirectory, string cacheRoot, OptimizationOptions options, out bool written)
    {
        var source = Path.GetFullPath(sourceDirectory);
        Directory.CreateDirectory(cacheRoot);
        var key = Key(source, cacheRoot, options);
        var target = Path.Combine(cacheRoot, $"{Path.GetFileName(source.TrimEnd(Path.DirectorySeparatorChar))}-{options.Describe()}-{key}");
        written = false;
        if (File.Exists(Path.Combine(target, ModelOptimizer.ReportFileName))) return target;

        var temporary = Path.Combine(cacheRoot, $".{Guid.NewGuid():N}.tmp");
        try
        {
            ModelOptimizer.Optimize(source, temporary, options);
            Directory.Move(temporary, target);
            written = true;
        }
        catch (IOException) when (File.Exists(Path.Combine(target, ModelOptimizer.ReportFileName)))
        {
            // Another process finished the same copy first.
        }
        finally
        {
            if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
        }
        return target;
    }

    /// <summary>First 16 hex digits of SHA-256 over every source file's relative path and content hash, the ORT and optimizer versions and the options.</summary>
    internal static string Key(string source, string cacheRoot, OptimizationOptions options)
    {
        var memoPath = Path.Combine(cacheRoot, HashMemoFileName);
        var memo = ReadMemo(memoPath);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"ort={OnnxRuntimeInfo.Version};optimizer={OptimizerVersion};options={options.Describe()}\n");
        var files = Directory.GetFiles(source, "*", SearchOption.AllDirectories);
        Array.Sort(files, StringComparer.Ordinal);
        var changed = false;
        foreach (var file in files)
        {
            var info = new FileInfo(file);
            var stamp = string.Create(CultureInfo.InvariantCulture, $"{info.FullName}|{info.Length}|{info.LastWriteTimeUtc.Ticks}");
            if (!memo.TryGetValue(stamp, out var hash))
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
                hash = Convert.ToHexString(SHA256.HashData(stream));
                memo[stamp] = hash;
                changed = true;
            }
            text.Append(Path.GetRelativePath(source, file).Replace('\\', '/')).Append('=').Append(hash).Append('\n');
        }
        if (changed) WriteMemo(memoPath, memo);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16].ToLowerInvariant();
    }

    private static Dictionary<string, string> ReadMemo(string path)
    {
        try
        {
            return File.Exists(path)
                ? JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? []
                : [];
        }
        catch (JsonException)
        {
            return []; // a damaged memo only costs hashing again
        }
    }

    private static void WriteMemo(string path, Dictionary<string, string> memo)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + $".{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(memo));
        File.Move(temporary, path, overwrite: true);
    }
}
