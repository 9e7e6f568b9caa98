namespace DiffusionApi.IntegrationTests.Deployment;

/// <summary>The repository checkout the tests run from, found by walking up to DiffusionService.sln.</summary>
internal static class RepositoryRoot
{
    private static readonly Lazy<string> Root = new(Find);

    public static string Path => Root.Value;

    public static string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    private static string Find()
    {
        // Test binaries live under tests/<project>/bin/<configuration>/<tfm>/: the solution file is a few levels up.
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "DiffusionService.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException(
            $"DiffusionService.sln was not found in {AppContext.BaseDirectory} or any folder above it");
    }
}
