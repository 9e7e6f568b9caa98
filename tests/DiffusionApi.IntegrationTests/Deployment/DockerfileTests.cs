namespace DiffusionApi.IntegrationTests.Deployment;

/// <summary>
/// deploy/Dockerfile as the deployment issue describes it (checked by reading it: there is no Docker engine here),
/// and in agreement with the Helm chart's ports, user, paths and probes.
/// </summary>
public sealed class DockerfileTests
{
    private readonly Dockerfile _dockerfile = Dockerfile.Load();
    private readonly HelmChart _chart = HelmChart.Load();

    [Fact]
    public void Build_PublishesTheApiFrameworkDependentForLinuxX64WithTheDotnet10Sdk()
    {
        var build = _dockerfile.Stages[0];

        Assert.Equal("mcr.microsoft.com/dotnet/sdk:10.0", build.BaseImage);
        Assert.Contains(build.All("RUN"), run => run.Contains(
            "dotnet publish src/DiffusionApi -c Release -r linux-x64 --self-contained false", StringComparison.Ordinal));
    }

    [Fact]
    public void Runtime_IsTheCuda13CudnnRuntimeImageWithTheAspNetCore10Runtime()
    {
        Assert.Matches(@"^nvidia/cuda:13\.\d+\.\d+-cudnn-runtime-ubuntu24\.04$", _dockerfile.Runtime.BaseImage);
        Assert.Contains(_dockerfile.Stages, stage => stage.BaseImage == "mcr.microsoft.com/dotnet/aspnet:10.0-noble");
        Assert.Contains(_dockerfile.Runtime.All("COPY"), copy => copy.StartsWith("--from=aspnet /usr/share/dotnet", StringComparison.Ordinal));
    }

    [Fact]
    public void Runtime_RunsAsANumericNonRootUser()
    {
        var user = Assert.Single(_dockerfile.Runtime.All("USER"));
        var uid = user.Split(':')[0];

        Assert.True(int.TryParse(uid, out var id) && id > 0, $"USER must be a numeric non-root uid but was '{user}'");
    }

    [Fact]
    public void Runtime_LeavesTheModelPathUnsetSoAnEmptyModelsMountServesTheTinyModel()
    {
        var environment = _dockerfile.Runtime.Environment;

        Assert.DoesNotContain("Diffusion__Model__Path", environment.Keys);
        Assert.Equal("/models", environment["DIFFUSION_MODELS_DIR"]);
        Assert.Equal("/data", environment["Diffusion__DataDirectory"]);
        Assert.Contains(_dockerfile.Runtime.All("VOLUME"), volume => volume.Contains("\"/data\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Runtime_StartsThroughTheEntrypointScriptInExecForm()
    {
        Assert.Equal(["/app/docker-entrypoint.sh"], _dockerfile.Runtime.Entrypoint);
        Assert.True(File.Exists(RepositoryRoot.Combine("deploy", "docker-entrypoint.sh")));
        Assert.True(File.Exists(RepositoryRoot.Combine("deploy", "smoke-test.sh")));
    }

    [Fact]
    public void ExposedPortAndKestrelPort_MatchTheChartContainerPort()
    {
        var containerPort = _chart.Values.Scalar("containerPort");

        Assert.Equal(containerPort, Assert.Single(_dockerfile.Runtime.All("EXPOSE")));
        Assert.Equal(containerPort, _dockerfile.Runtime.Environment["ASPNETCORE_HTTP_PORTS"]);
        Assert.Equal("8080", containerPort);
    }

    [Fact]
    public void ImageUserAndPaths_MatchTheChart()
    {
        var uid = Assert.Single(_dockerfile.Runtime.All("USER")).Split(':')[0];
        var environment = _dockerfile.Runtime.Environment;

        Assert.Equal(uid, _chart.Values.Scalar("podSecurityContext.runAsUser"));
        Assert.Equal(environment["Diffusion__DataDirectory"], _chart.Values.Scalar("persistence.mountPath"));
        Assert.Equal(environment["DIFFUSION_MODELS_DIR"], _chart.Values.Scalar("model.mountPath"));
    }

    [Fact]
    public void DockerIgnoreFiles_KeepBuildOutputTestOutputAndGitOutOfTheContext()
    {
        var root = Patterns(RepositoryRoot.Combine(".dockerignore"));
        var besideDockerfile = Patterns(RepositoryRoot.Combine("deploy", ".dockerignore"));

        Assert.Equal(root, besideDockerfile);
        foreach (var pattern in new[] { "**/bin/", "**/obj/", "**/TestResults/", ".git" })
        {
            Assert.Contains(pattern, root);
        }
    }

    private static List<string> Patterns(string path) => File.ReadAllLines(path)
        .Select(line => line.Trim())
        .Where(line => line.Length > 0 && !line.StartsWith('#'))
        .ToList();
}
