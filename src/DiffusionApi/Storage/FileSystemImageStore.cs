using DiffusionApi.Options;
using DiffusionEngine.Imaging;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Storage;

/// <summary>
/// Stores each image as <c>&lt;id&gt;&lt;extension&gt;</c> in one folder. Writes go to a temp file in the same folder
/// and are renamed into place, so a reader never sees half an image. The extension records the content type. Images are
/// served by this service, so there is no direct URL. The job id is not part of the layout: ids are unique on their own.
/// </summary>
public sealed partial class FileSystemImageStore : IImageStore
{
    // The engine's formats name the content types and extensions, so a new format is stored without a change here.
    private static readonly (string ContentType, string Extension)[] KnownTypes =
        Array.ConvertAll(Enum.GetValues<ImageFormat>(), format => (format.ContentType(), format.Extension()));

    private const string TempSuffix = ".tmp";

    /// <summary>An owned image's owner hash lives beside it in <c>&lt;id&gt;.owner</c>.</summary>
    private const string OwnerSuffix = ".owner";
    private readonly ILogger<FileSystemImageStore> _logger;

    /// <param name="rootDirectory">The image folder; created when missing.</param>
    /// <param name="logger">Where failed deletes and sweeps are reported.</param>
    /// <param name="setting">The setting the folder came from, named when it cannot be used.</param>
    /// <exception cref="SettingException">The folder cannot be created (the path is a file, or not allowed).</exception>
    public FileSystemImageStore(string rootDirectory, ILogger<FileSystemImageStore> logger, string setting = PathSetting)
    {
        RootDirectory = Path.GetFullPath(rootDirectory);
        Setting = setting;
        _logger = logger;
        try
        {
            Directory.CreateDirectory(RootDirectory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            var what = File.Exists(RootDirectory) ? "is a file, not a folder" : $"cannot be created ({ex.Message})";
            throw new SettingException(setting, $"{setting}: the image folder '{RootDirectory}' {what}; set it to a writable folder", ex);
        }
    }

    public FileSystemImageStore(IOptions<StorageOptions> options, IOptions<DiffusionOptions> service, ILogger<FileSystemImageStore> logger)
        : this(ResolveRoot(options.Value, service.Value), logger, options.Value.Path.Length > 0 ? PathSetting : DataDirectorySetting)
    {
    }

    private const string PathSetting = StorageOptions.SectionName + ":" + nameof(StorageOptions.Path);
    private const string DataDirectorySetting = DiffusionOptions.SectionName + ":" + nameof(DiffusionOptions.DataDirectory);

    public string RootDirectory { get; }

    /// <summary>The setting the folder came from (<c>Diffusion:Storage:Path</c>, or <c>Diffusion:DataDirectory</c> when that is empty).</summary>
    public string Setting { get; }

    /// <summary>
    /// Writes and deletes a probe file, so that a folder this process may not write to stops the start instead of
    /// failing every job later.
    /// </summary>
    /// <exception cref="SettingException">The folder is not writable.</exception>
    public void EnsureWritable()
    {
        var probe = Path.Combine(RootDirectory, $".probe-{ImageIds.NewId()}{TempSuffix}");
        try
        {
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SettingException(Setting, $"{Setting}: the image folder '{RootDirectory}' is not writable ({ex.Message}); set it to a writable folder", ex);
        }
    }

    public static string ResolveRoot(StorageOptions storage, DiffusionOptions service) =>
        storage.Path.Length > 0 ? storage.Path : Path.Combine(DataDirectory.Resolve(service), "images");

    public async Task<string> PutAsync(string jobId, ReadOnlyMemory<byte> content, string contentType, string? owner = null, CancellationToken cancellationToken = default)
    {
        var extension = ExtensionOf(contentType)
            ?? throw new ArgumentException($"content type must be one of {string.Join(", ", KnownTypes.Select(t => t.ContentType))} but was '{contentType}'", nameof(contentType));
        var id = ImageIds.NewId();
        var finalPath = Path.Combine(RootDirectory, id + extension);
        var tempPath = Path.Combine(RootDirectory, $".{id}{TempSuffix}");
        try
        {
            await using (var stream = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
            {
                await stream.WriteAsync(content, cancellationToken);
                await stream.FlushAsync(cancellationToken);
            }
            // The owner goes first: an image is never there without it (a reader would take it for nobody's).
            if (owner is not null) await File.WriteAllTextAsync(OwnerPath(id), owner, cancellationToken);
            File.Move(tempPath, finalPath);
        }
        catch
        {
            TryDelete(tempPath);
            if (owner is not null && File.Exists(OwnerPath(id))) TryDelete(OwnerPath(id));
            throw;
        }
        return id;
    }

    public Task<StoredImage?> OpenAsync(string id, CancellationToken cancellationToken = default)
    {
        // The id is checked before it is ever combined with a path.
        if (!ImageIds.IsValid(id)) return Task.FromResult<StoredImage?>(null);
        foreach (var (contentType, extension) in KnownTypes)
        {
            var path = Path.Combine(RootDirectory, id + extension);
            try
            {
                var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 4096, FileOptions.Asynchronous);
                var created = new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);
                var owner = File.Exists(OwnerPath(id)) ? File.ReadAllText(OwnerPath(id)) : null;
                return Task.FromResult<StoredImage?>(new StoredImage(id, contentType, stream, created, owner));
            }
            catch (FileNotFoundException)
            {
            }
        }
        return Task.FromResult<StoredImage?>(null);
    }

    public ValueTask<Uri?> GetDirectUrlAsync(string id, CancellationToken cancellationToken = default) => ValueTask.FromResult<Uri?>(null);

    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!ImageIds.IsValid(id)) return Task.FromResult(false);
        var deleted = false;
        foreach (var (_, extension) in KnownTypes)
        {
            var path = Path.Combine(RootDirectory, id + extension);
            if (File.Exists(path) && TryDelete(path)) deleted = true;
        }
        if (File.Exists(OwnerPath(id))) TryDelete(OwnerPath(id));
        return Task.FromResult(deleted);
    }

    public Task<int> RemoveOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default) => Task.FromResult(RemoveOlderThan(cutoff));

    private int RemoveOlderThan(DateTimeOffset cutoff)
    {
        var removed = 0;
        foreach (var path in Directory.EnumerateFiles(RootDirectory))
        {
            var name = Path.GetFileName(path);
            var isImage = KnownTypes.Any(t => name.EndsWith(t.Extension, StringComparison.Ordinal) && ImageIds.IsValid(name[..^t.Extension.Length]));
            var isStaleTemp = name.StartsWith('.') && name.EndsWith(TempSuffix, StringComparison.Ordinal);
            var isOwner = name.EndsWith(OwnerSuffix, StringComparison.Ordinal) && ImageIds.IsValid(name[..^OwnerSuffix.Length]);
            if (!isImage && !isStaleTemp && !isOwner) continue;
            if (File.GetLastWriteTimeUtc(path) >= cutoff.UtcDateTime) continue;
            if (TryDelete(path)) removed++;
        }
        if (removed > 0) Log.ImagesRemoved(_logger, removed, cutoff);
        return removed;
    }

    private string OwnerPath(string id) => Path.Combine(RootDirectory, id + OwnerSuffix);

    private static string? ExtensionOf(string contentType)
    {
        foreach (var (type, extension) in KnownTypes)
        {
            if (string.Equals(type, contentType, StringComparison.OrdinalIgnoreCase)) return extension;
        }
        return null;
    }

    private bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (IOException ex)
        {
            Log.DeleteFailed(_logger, path, ex);
            return false;
        }
        catch (UnauthorizedAccessException ex)
        {
            Log.DeleteFailed(_logger, path, ex);
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Removed {Count} images stored before {Cutoff}")]
        public static partial void ImagesRemoved(ILogger logger, int count, DateTimeOffset cutoff);

        [LoggerMessage(2, LogLevel.Warning, "Could not delete {Path}")]
        public static partial void DeleteFailed(ILogger logger, string path, Exception exception);
    }
}
