namespace DiffusionApi.BrowserTests.TestSupport;

/// <summary>
/// Files a run keeps for people to look at (the playground screenshot): <c>TestResults/artifacts/</c> at the repository
/// root, next to the TRX files .ci/run writes there, or <c>DIFFUSION_TEST_ARTIFACTS</c> when set.
/// </summary>
public static class Artifacts
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string Directory
    {
        get
        {
            var path = Environment.GetEnvironmentVariable("DIFFUSION_TEST_ARTIFACTS") is { Length: > 0 } set
                ? set
                : Path.Combine(RepositoryRoot, "TestResults", "artifacts");
            System.IO.Directory.CreateDirectory(path);
            return path;
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DiffusionService.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"no DiffusionService.sln above {AppContext.BaseDirectory}");
    }
}
