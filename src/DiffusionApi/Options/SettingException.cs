namespace DiffusionApi.Options;

/// <summary>
/// A setting whose value cannot work on this machine (a folder that is a file, a bucket that does not exist). The
/// message names the setting; start-up ends with exit code 1 and that message (see <c>RunService</c>), not a crash.
/// </summary>
public sealed class SettingException(string setting, string message, Exception? innerException = null)
    : InvalidOperationException(message, innerException)
{
    /// <summary>The setting's configuration key, e.g. <c>Diffusion:Storage:Path</c>.</summary>
    public string Setting { get; } = setting;
}
