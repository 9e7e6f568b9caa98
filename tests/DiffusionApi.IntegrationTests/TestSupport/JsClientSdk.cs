using System.Diagnostics;
using System.Text;
using Xunit;

namespace DiffusionApi.IntegrationTests.TestSupport;

/// <summary>
/// Runs a script of tests/ClientSdks/js (the official OpenAI JS SDK, installed there by <c>npm ci</c>, which .ci/run
/// does) with Node.js against a real service process. Outside CI a missing install skips the test with a message; under
/// CI=true it fails, so CI never skips these.
/// </summary>
public static class JsClientSdk
{
    private static readonly Lazy<string?> Folder = new(FindFolder);

    /// <summary>Why the JS SDK tests cannot run here, or null when they can.</summary>
    public static string? SkipReason
    {
        get
        {
            if (Folder.Value is { } folder && Directory.Exists(Path.Combine(folder, "node_modules", "openai")) && NodeVersion() is not null) return null;
            var what = Folder.Value is null
                ? "tests/ClientSdks/js was not found above the test's output folder"
                : NodeVersion() is null ? "node is not on PATH" : $"the SDKs are not installed (run: cd {Folder.Value} && npm ci)";
            return IsCi ? null : $"{what}; JS client SDK test skipped (CI installs them)";
        }
    }

    private static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Runs <c>node SCRIPT args…</c> in the SDK folder and returns its exit code, standard output and standard error.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string script, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var folder = Folder.Value ?? throw new InvalidOperationException("tests/ClientSdks/js was not found above the test's output folder");
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;

        using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"node {script} did not finish within 120 s: {await error}");
        }
        return (process.ExitCode, await output, await error);
    }

    private static string? FindFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "ClientSdks", "js");
            if (File.Exists(Path.Combine(candidate, "package.json"))) return candidate;
        }
        return null;
    }

    private static string? NodeVersion()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("node", "--version") { RedirectStandardOutput = true, UseShellExecute = false });
            if (process is null) return null;
            var version = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? version : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}

/// <summary>A fact that drives an official JS client SDK: skipped with a message outside CI when it is not installed.</summary>
public sealed class JsClientSdkFactAttribute : FactAttribute
{
    public JsClientSdkFactAttribute()
    {
        if (JsClientSdk.SkipReason is { } reason) Skip = reason;
    }
}
