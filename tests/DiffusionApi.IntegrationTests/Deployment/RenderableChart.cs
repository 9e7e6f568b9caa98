namespace DiffusionApi.IntegrationTests.Deployment;

/// <summary>
/// A copy of deploy/helm/diffusion-service in a temp folder that helm can render offline.
/// <para>
/// Chart.yaml declares the Bitnami redis chart as a dependency (condition redis.enabled, for redis.mode subchart), and
/// helm refuses to render or install a chart whose charts/ folder lacks a declared dependency, even when its condition
/// is false ("found in Chart.yaml, but missing in charts/ directory: redis"). Users run `helm dependency build`, which
/// downloads it from registry-1.docker.io; the test machines reach no chart registry. So the copy gets
/// <b>a stand-in for the Bitnami chart</b> in charts/redis: a chart named redis whose one template echoes the values it
/// receives into a ConfigMap. It runs no Redis and checks nothing about Bitnami's chart; it only lets our own templates
/// render in every mode and shows which values our chart hands the subchart (and that redis.enabled switches it).
/// </para>
/// </summary>
public sealed class RenderableChart : IDisposable
{
    /// <summary>The ConfigMap the stand-in renders: "&lt;release&gt;-redis-standin".</summary>
    public const string StandInSuffix = "-redis-standin";

    private readonly DirectoryInfo _root = System.IO.Directory.CreateTempSubdirectory("diffusion-chart-");

    public RenderableChart()
    {
        Directory = Path.Combine(_root.FullName, "diffusion-service");
        Copy(RepositoryRoot.Combine(HelmChart.RelativePath.Split('/')), Directory);
        var standIn = Path.Combine(Directory, "charts", "redis");
        System.IO.Directory.CreateDirectory(Path.Combine(standIn, "templates"));
        File.WriteAllText(Path.Combine(standIn, "Chart.yaml"), """
            apiVersion: v2
            name: redis
            description: Test stand-in for the Bitnami redis chart (tests/DiffusionApi.IntegrationTests/Deployment/RenderableChart.cs)
            version: 20.0.0
            """);
        File.WriteAllText(Path.Combine(standIn, "templates", "values.yaml"), $$$"""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {{ .Release.Name }}{{{StandInSuffix}}}
            data:
              architecture: {{ .Values.architecture | quote }}
              authEnabled: {{ .Values.auth.enabled | quote }}
              commonConfiguration: {{ .Values.commonConfiguration | quote }}
              masterPersistence: {{ .Values.master.persistence.enabled | quote }}
            """);
    }

    /// <summary>The chart folder to hand helm.</summary>
    public string Directory { get; }

    public void Dispose() => _root.Delete(recursive: true);

    private static void Copy(string from, string to)
    {
        System.IO.Directory.CreateDirectory(to);
        foreach (var file in System.IO.Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        // A charts/ folder from a local `helm dependency build` is left behind: the stand-in takes its place.
        foreach (var folder in System.IO.Directory.GetDirectories(from).Where(f => Path.GetFileName(f) != "charts"))
            Copy(folder, Path.Combine(to, Path.GetFileName(folder)));
    }
}
