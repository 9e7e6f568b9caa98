using PuppeteerSharp;

namespace DiffusionApi.BrowserTests.TestSupport;

/// <summary>
/// Debian's chromium (<c>/usr/bin/chromium</c>, or <c>DIFFUSION_CHROMIUM</c>), launched headless with a fresh profile.
/// Never downloads a browser. Outside CI a missing chromium skips the browser tests with a message; with CI=true it
/// fails them (.ci/run installs it).
/// </summary>
public static class Chromium
{
    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("DIFFUSION_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public static bool IsInstalled => File.Exists(ExecutablePath);

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Why browser tests are skipped here, or null when they run (chromium present, or CI, where they must).</summary>
    public static string? SkipReason =>
        IsInstalled || IsCi ? null : $"{ExecutablePath} is not installed (apt-get install -y chromium); browser test skipped";

    /// <summary>Flags that work on our machines (no GPU, no sandbox for root, no background traffic).</summary>
    private static readonly string[] Flags =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    public static Task<IBrowser> LaunchAsync(string userDataDirectory)
    {
        if (!IsInstalled)
            throw new InvalidOperationException($"CI=true but {ExecutablePath} is missing: .ci/run must install Debian's chromium (apt-get install -y chromium)");
        return Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            UserDataDir = userDataDirectory,
            Args = Flags,
            Timeout = 60_000,
            DefaultViewport = new ViewPortOptions { Width = 1280, Height = 900 },
        });
    }
}

/// <summary>A test that needs chromium: skipped with a message when it is missing outside CI.</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (Chromium.SkipReason is { } reason) Skip = reason;
    }
}
