using System.Net;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Hosting;

/// <summary>The settings that choose the job backend and the image store accept only what this build has.</summary>
public sealed class BackendConfigurationTests
{
    [Theory]
    [InlineData("Diffusion:Scaleout:Backend", "Kafka")]
    [InlineData("Diffusion:Storage:Provider", "Azure")]
    public void AnUnknownBackend_FailsAtStartNamingTheSettingAndTheValue(string setting, string value)
    {
        var error = DiffusionApiFactory.StartFailure(new Dictionary<string, string?> { [setting] = value });
        Assert.Contains(setting, error.ToString(), StringComparison.Ordinal);
        Assert.Contains($"'{value}'", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void TheRedisBackend_WithoutAServer_FailsAtStartNamingTheSetting()
    {
        var error = DiffusionApiFactory.StartFailure(new Dictionary<string, string?> { ["Diffusion:Scaleout:Backend"] = "Redis" });
        Assert.Contains("Diffusion:Scaleout:Redis", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDefaultBackends_SpelledOut_StartAndServe()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?>
        {
            ["Diffusion:Scaleout:Backend"] = "InMemory",
            ["Diffusion:Scaleout:LeaseSeconds"] = "30",
            ["Diffusion:Storage:Provider"] = "FileSystem",
        });
        var client = await factory.CreateReadyClientAsync();

        Assert.Equal(HttpStatusCode.OK, (await client.PostGenerateAsync(Requests.Small())).StatusCode);
    }
}
