using System.Diagnostics;

namespace DiffusionApi.IntegrationTests.Deployment;

/// <summary>
/// The real helm binary: the HELM environment variable (a path), else <c>helm</c> on PATH. Tests that render the chart
/// call <see cref="Require"/>: without helm they skip with a message, except in CI (<c>CI=true</c>), where .ci/run
/// installs one (.ci/install-helm) and a missing helm fails them.
/// </summary>
internal sealed class HelmCli
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private HelmCli(string executable) => Executable = executable;

    public string Executable { get; }

    /// <summary>Where helm is, or null.</summary>
    public static string? Find()
    {
        var configured = Environment.GetEnvironmentVariable("HELM");
        if (!string.IsNullOrEmpty(configured)) return File.Exists(configured) ? Path.GetFullPath(configured) : null;
        return (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, OperatingSystem.IsWindows() ? "helm.exe" : "helm"))
            .FirstOrDefault(File.Exists);
    }

    /// <summary>What is missing, for a skip or a failure message.</summary>
    public static string Missing()
    {
        var configured = Environment.GetEnvironmentVariable("HELM");
        return string.IsNullOrEmpty(configured)
            ? "helm is not on PATH and HELM is not set"
            : $"HELM is set to '{configured}', which does not exist";
    }

    /// <summary>helm, or a skip outside CI; in CI a missing helm throws.</summary>
    public static HelmCli Require()
    {
        var executable = Find();
        if (executable is not null) return new HelmCli(executable);
        Skip.IfNot(IsCi, $"{Missing()}: the rendered chart tests are skipped (.ci/run installs helm with .ci/install-helm)");
        throw new InvalidOperationException($"CI=true but {Missing()}: .ci/run must install it (.ci/install-helm)");
    }

    private static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// <c>helm template RELEASE CHART</c> with each "path=value" as its own --set (or --set-string for
    /// <paramref name="strings"/>) and each YAML text as a values file (-f, in order).
    /// </summary>
    public HelmResult Template(
        string chartDirectory,
        IEnumerable<string>? sets = null,
        IEnumerable<string>? valuesYaml = null,
        IEnumerable<string>? strings = null,
        string release = "r") =>
        WithValuesFiles(valuesYaml, files => Run(
            ["template", release, chartDirectory, "--namespace", "diffusion", .. Arguments(sets, strings, files)]));

    /// <summary><c>helm lint --strict CHART</c> with the same value arguments as <see cref="Template"/>.</summary>
    public HelmResult Lint(string chartDirectory, IEnumerable<string>? sets = null, IEnumerable<string>? valuesYaml = null) =>
        WithValuesFiles(valuesYaml, files => Run(["lint", "--strict", chartDirectory, .. Arguments(sets, null, files)]));

    public HelmResult Run(IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        // Helm's own cache and config in a folder of its own, so a developer's repositories and plugins play no part.
        var home = Directory.CreateTempSubdirectory("helm-home-");
        start.Environment["HELM_CACHE_HOME"] = Path.Combine(home.FullName, "cache");
        start.Environment["HELM_CONFIG_HOME"] = Path.Combine(home.FullName, "config");
        start.Environment["HELM_DATA_HOME"] = Path.Combine(home.FullName, "data");
        try
        {
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Executable}");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"helm {string.Join(' ', arguments)} ran longer than {Timeout}");
            }

            process.WaitForExit();
            return new HelmResult(arguments, process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    private static IEnumerable<string> Arguments(IEnumerable<string>? sets, IEnumerable<string>? strings, IEnumerable<string> files) =>
        files.SelectMany(file => new[] { "-f", file })
            .Concat((sets ?? []).SelectMany(set => new[] { "--set", set }))
            .Concat((strings ?? []).SelectMany(set => new[] { "--set-string", set }));

    private static HelmResult WithValuesFiles(IEnumerable<string>? valuesYaml, Func<IReadOnlyList<string>, HelmResult> run)
    {
        var files = (valuesYaml ?? []).Select(yaml =>
        {
            var path = Path.Combine(Path.GetTempPath(), $"values-{Guid.NewGuid():N}.yaml");
            File.WriteAllText(path, yaml);
            return path;
        }).ToList();
        try
        {
            return run(files);
        }
        finally
        {
            foreach (var file in files) File.Delete(file);
        }
    }
}

/// <summary>One helm run: its arguments, exit code and both streams (for messages).</summary>
internal sealed record HelmResult(IReadOnlyList<string> Arguments, int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() =>
        $"helm {string.Join(' ', Arguments)} exited {ExitCode}\nstderr:\n{Stderr}\nstdout:\n{Stdout}";

    /// <summary>The rendered manifests, or an assertion failure carrying helm's stderr when it failed.</summary>
    public RenderedManifests Manifests()
    {
        Assert.True(ExitCode == 0, ToString());
        return RenderedManifests.Parse(Stdout);
    }
}
