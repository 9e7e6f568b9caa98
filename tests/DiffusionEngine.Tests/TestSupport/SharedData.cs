namespace DiffusionEngine.Tests.TestSupport;

/// <summary>
/// Locates ../shared/data beside the repository (the project never commits it). A clone without it still
/// passes: tests that need it are skipped with a message naming what is missing; .ci/run insists on it.
/// </summary>
public static class SharedData
{
    private static readonly Lazy<string?> Root = new(FindRoot);

    /// <summary>The ../shared/data folder, or null when this checkout has none.</summary>
    public static string? Directory => Root.Value;

    /// <summary>Full path of a file or folder under ../shared/data.</summary>
    public static string PathOf(params string[] parts) =>
        System.IO.Path.Combine([Directory ?? throw new InvalidOperationException(MissingMessage), .. parts]);

    public static string MissingMessage =>
        "../shared/data (CLIP vocabulary, SD 1.5 configs, measured torch noise) is not beside this checkout; test skipped";

    private static string? FindRoot()
    {
        var env = Environment.GetEnvironmentVariable("DIFFUSION_SHARED_DATA");
        if (!string.IsNullOrEmpty(env) && System.IO.Directory.Exists(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "DiffusionService.sln")))
            {
                var data = System.IO.Path.GetFullPath(System.IO.Path.Combine(dir.FullName, "..", "shared", "data"));
                return System.IO.Directory.Exists(data) ? data : null;
            }
        }
        return null;
    }
}

/// <summary>A fact that needs ../shared/data: skipped with a message when it is absent.</summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute()
    {
        if (SharedData.Directory is null) Skip = SharedData.MissingMessage;
    }
}

/// <summary>A theory that needs ../shared/data: skipped with a message when it is absent.</summary>
public sealed class SharedDataTheoryAttribute : TheoryAttribute
{
    public SharedDataTheoryAttribute()
    {
        if (SharedData.Directory is null) Skip = SharedData.MissingMessage;
    }
}
