namespace DiffusionEngine.Models;

/// <summary>Where the service and the CLI keep their data (the default tiny model, stored images) unless configured otherwise.</summary>
public static class DataDirectories
{
    /// <summary>Environment variable that overrides the default data directory.</summary>
    public const string EnvironmentVariable = "DIFFUSION_DATA_DIR";

    /// <summary>
    /// $DIFFUSION_DATA_DIR when set, else &lt;LocalApplicationData&gt;/DiffusionService (~/.local/share/DiffusionService
    /// on Linux, %LOCALAPPDATA%\DiffusionService on Windows); the temp folder when the user has no profile folder.
    /// </summary>
    public static string Default
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(configured)) return Path.GetFullPath(configured);
            var local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
            if (string.IsNullOrEmpty(local)) local = Path.GetTempPath();
            return Path.Combine(local, "DiffusionService");
        }
    }
}
