using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace DiffusionApi.IntegrationTests.Deployment;

/// <summary>
/// The Helm chart checked without a helm binary: its YAML files parse, Chart.yaml has what Helm 3 requires, every
/// values path a template reads is defined in values.yaml, template blocks are balanced and every included template
/// exists; plus the defaults the deployment issue asks for (GPU on, hardened pod, grace period above the drain).
/// </summary>
public sealed partial class HelmChartTests
{
    private readonly HelmChart _chart = HelmChart.Load();

    [Fact]
    public void ChartYaml_DeclaresApiVersionV2_NameAndSemanticVersion()
    {
        Assert.Equal("v2", _chart.ChartScalar("apiVersion"));
        Assert.Equal("diffusion-service", _chart.ChartScalar("name"));
        Assert.Matches(SemanticVersion(), _chart.ChartScalar("version"));
        Assert.False(string.IsNullOrWhiteSpace(_chart.ChartScalar("appVersion")));
    }

    [Fact]
    public void ChartYamlAndValuesYaml_AreSingleYamlDocumentsWithAMappingRoot()
    {
        // Load already parsed both; reparse each on its own so a failure names the file.
        foreach (var file in new[] { "Chart.yaml", "values.yaml" })
        {
            var root = HelmChart.LoadMapping(Path.Combine(_chart.Directory, file));
            Assert.NotEmpty(root.Children);
        }
    }

    [Fact]
    public void LoadMapping_WhenYamlIsInvalid_ThrowsWithTheLine()
    {
        var path = Path.Combine(Path.GetTempPath(), $"invalid-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "image:\n  repository: a\n   tag: b\n");
        try
        {
            var error = Assert.Throws<InvalidDataException>(() => HelmChart.LoadMapping(path));
            Assert.StartsWith($"{path}:3:", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Templates_ReadOnlyValuesPathsThatValuesYamlDefines()
    {
        var undefined = _chart.FindUndefinedValuesReferences();

        Assert.True(undefined.Count == 0, "templates read values that values.yaml does not define:\n" + string.Join('\n', undefined));
    }

    [Fact]
    public void FindUndefinedValuesReferences_ReportsATemplateReadingAMissingValue()
    {
        var directory = Directory.CreateTempSubdirectory("chart-check-");
        try
        {
            Directory.CreateDirectory(Path.Combine(directory.FullName, "templates"));
            File.WriteAllText(Path.Combine(directory.FullName, "Chart.yaml"), "apiVersion: v2\nname: c\nversion: 0.1.0\n");
            File.WriteAllText(Path.Combine(directory.FullName, "values.yaml"), "image:\n  tag: \"\"\n");
            File.WriteAllText(Path.Combine(directory.FullName, "templates", "deployment.yaml"),
                "image: {{ .Values.image.tag }}\npolicy: {{ $.Values.image.pullPolicy }}\n");

            var undefined = HelmChart.Load(directory.FullName).FindUndefinedValuesReferences();

            Assert.Equal(
                ["deployment.yaml:2 .Values.image.pullPolicy: values.yaml has no key 'pullPolicy' under 'image'"],
                undefined);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void Templates_ScanFindsTheValuesEveryManifestReads()
    {
        // Guards the check above: a scanner that finds nothing would pass it vacuously.
        var paths = _chart.Templates
            .SelectMany(t => ValuesReferenceScanner.Scan(t.Name, t.Text))
            .Select(reference => reference.Expression)
            .ToHashSet();

        Assert.True(paths.Count > 60, $"only {paths.Count} distinct values paths found");
        Assert.Contains(".Values.gpu.enabled", paths);
        Assert.Contains(".Values.config.shutdownTimeoutSeconds", paths);
        Assert.Contains(".Values.autoscaling.targetQueueDepthPerPod", paths);
    }

    [Fact]
    public void Templates_CloseEveryBlockTheyOpen()
    {
        var problems = _chart.Templates.SelectMany(TemplateStructure.FindUnbalancedBlocks).ToList();

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void Templates_IncludeOnlyDefinedTemplatesAndExistingFiles()
    {
        var defined = _chart.Templates.SelectMany(TemplateStructure.DefinedNames).ToHashSet(StringComparer.Ordinal);
        var files = _chart.Templates.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);

        var problems = _chart.Templates
            .SelectMany(t => TemplateStructure.IncludedNames(t)
                .Where(include => !defined.Contains(include.Name))
                .Select(include => $"{t.Name}:{include.Line} includes undefined template \"{include.Name}\"")
                .Concat(TemplateStructure.IncludedFiles(t)
                    .Where(include => !files.Contains(include.File))
                    .Select(include => $"{t.Name}:{include.Line} includes missing file templates/{include.File}")))
            .ToList();

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Theory]
    [InlineData("deployment.yaml")]
    [InlineData("service.yaml")]
    [InlineData("ingress.yaml")]
    [InlineData("configmap.yaml")]
    [InlineData("secret.yaml")]
    [InlineData("poddisruptionbudget.yaml")]
    [InlineData("hpa.yaml")]
    [InlineData("scaledobject.yaml")]
    [InlineData("servicemonitor.yaml")]
    [InlineData("NOTES.txt")]
    [InlineData("_helpers.tpl")]
    public void Chart_HasTemplate(string name)
    {
        Assert.Contains(_chart.Templates, template => template.Name == name);
    }

    [Fact]
    public void Values_RequestAGpuByDefault()
    {
        Assert.Equal("true", _chart.Values.Scalar("gpu.enabled"));
        Assert.Equal("nvidia.com/gpu", _chart.Values.Scalar("gpu.resourceName"));
        Assert.Contains("set $limits .Values.gpu.resourceName", Template("deployment.yaml"), StringComparison.Ordinal);
    }

    [Fact]
    public void Values_HardenThePodByDefault()
    {
        Assert.Equal("true", _chart.Values.Scalar("podSecurityContext.runAsNonRoot"));
        Assert.Equal("RuntimeDefault", _chart.Values.Scalar("podSecurityContext.seccompProfile.type"));
        Assert.Equal("true", _chart.Values.Scalar("securityContext.runAsNonRoot"));
        Assert.Equal("true", _chart.Values.Scalar("securityContext.readOnlyRootFilesystem"));
        Assert.Equal("false", _chart.Values.Scalar("securityContext.allowPrivilegeEscalation"));
        Assert.Equal("RuntimeDefault", _chart.Values.Scalar("securityContext.seccompProfile.type"));
        var drop = Assert.IsType<YamlSequenceNode>(_chart.Values.Node("securityContext.capabilities.drop"));
        Assert.Contains(drop.Children, node => node is YamlScalarNode { Value: "ALL" });
    }

    [Fact]
    public void Values_ProbeTheServiceHealthEndpoints()
    {
        Assert.Equal("/health/ready", _chart.Values.Scalar("probes.readiness.path"));
        Assert.Equal("/health/live", _chart.Values.Scalar("probes.liveness.path"));
        var startupBudget = int.Parse(_chart.Values.Scalar("probes.startup.periodSeconds"))
            * int.Parse(_chart.Values.Scalar("probes.startup.failureThreshold"));
        Assert.True(startupBudget >= 300, $"the startup probe allows {startupBudget}s for the model load, expected >= 300s");
    }

    [Fact]
    public void GracePeriod_ExceedsPreStopSleepPlusShutdownTimeout()
    {
        var preStop = int.Parse(_chart.Values.Scalar("lifecycle.preStopSleepSeconds"));
        var shutdown = int.Parse(_chart.Values.Scalar("config.shutdownTimeoutSeconds"));
        var configured = _chart.Values.Scalar("terminationGracePeriodSeconds");
        var helpers = Template("_helpers.tpl");

        if (configured.Length > 0)
        {
            Assert.True(int.Parse(configured) > preStop + shutdown);
        }
        else
        {
            // Derived in _helpers.tpl as preStop + shutdown + margin; the margin must be positive.
            var margin = GraceMargin().Match(helpers);
            Assert.True(margin.Success, "_helpers.tpl no longer derives the grace period as 'add $needed <margin>'");
            Assert.True(int.Parse(margin.Groups["margin"].Value) > 0);
        }

        Assert.Contains("terminationGracePeriodSeconds: {{ include \"diffusion-service.terminationGracePeriodSeconds\" . }}",
            Template("deployment.yaml"), StringComparison.Ordinal);
    }

    [Fact]
    public void ConfigMap_SetsEveryDiffusionSettingTheChartExposesAsAnEnvironmentVariable()
    {
        var configMap = Template("configmap.yaml");
        foreach (var name in new[]
                 {
                     "Diffusion__DataDirectory", "Diffusion__Model__ExecutionProvider", "Diffusion__Model__IntraOpThreads",
                     "Diffusion__Queue__Capacity", "Diffusion__Batching__MaxBatchSize", "Diffusion__Batching__MaxDelayMs",
                     "Diffusion__Storage__RetentionHours", "Diffusion__ShutdownTimeoutSeconds", "Diffusion__Logging__Format",
                     "Diffusion__Model__Path", "Diffusion__Playground__Enabled",
                 })
        {
            Assert.Contains(name + ":", configMap, StringComparison.Ordinal);
        }

        Assert.Contains("Diffusion__ApiKeys__{{ $index }}", Template("secret.yaml"), StringComparison.Ordinal);
    }

    [Fact]
    public void Values_TurnThePlaygroundOffByDefault()
    {
        // The service serves its playground page by default (a first run greets a browser); production installs do not.
        Assert.Equal("false", _chart.Values.Scalar("config.playground.enabled"));
        Assert.Contains("Diffusion__Playground__Enabled: {{ .Values.config.playground.enabled | quote }}", Template("configmap.yaml"), StringComparison.Ordinal);
    }

    [Fact]
    public void Values_LeaveCorsOff_AndTheConfigMapPassesEachAllowedOrigin()
    {
        var origins = Assert.IsType<YamlSequenceNode>(_chart.Values.Node("config.cors.allowedOrigins"));
        Assert.Empty(origins.Children);
        Assert.Contains("Diffusion__Cors__AllowedOrigins__{{ $index }}: {{ $origin | quote }}", Template("configmap.yaml"), StringComparison.Ordinal);
    }

    [Fact]
    public void Ingress_TurnsOnForwardedHeaders_SoStoredImageUrlsKeepTheClientsScheme()
    {
        var configMap = Template("configmap.yaml");
        var guard = configMap.IndexOf("{{- if .Values.ingress.enabled }}", StringComparison.Ordinal);
        Assert.True(guard >= 0, "configmap.yaml does not depend on ingress.enabled");
        Assert.True(configMap.IndexOf("ASPNETCORE_FORWARDEDHEADERS_ENABLED: \"true\"", guard, StringComparison.Ordinal) > guard);
    }

    [Fact]
    public void Autoscaling_ScalesOnTheServiceQueueDepthMetric()
    {
        // docs/api.md (Observability): gauge "diffusion.queue.depth" is exported to Prometheus as diffusion_queue_depth.
        Assert.Contains("name: diffusion_queue_depth", Template("hpa.yaml"), StringComparison.Ordinal);
        Assert.Contains("diffusion_queue_depth{", Template("scaledobject.yaml"), StringComparison.Ordinal);
        Assert.Contains(_chart.Values.Scalar("autoscaling.kind"), new[] { "hpa", "keda" });
    }

    private string Template(string name) => _chart.Templates.Single(template => template.Name == name).Text;

    [GeneratedRegex(@"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")]
    private static partial Regex SemanticVersion();

    [GeneratedRegex(@"add \$needed (?<margin>\d+)")]
    private static partial Regex GraceMargin();
}
