using DiffusionEngine.Models;

namespace DiffusionApi.Options;

/// <summary>Resolves <c>Diffusion:DataDirectory</c>, falling back to the engine's default data directory.</summary>
public static class DataDirectory
{
    public static string Resolve(DiffusionOptions options) =>
        Path.GetFullPath(options.DataDirectory.Length > 0 ? options.DataDirectory : DataDirectories.Default);
}
