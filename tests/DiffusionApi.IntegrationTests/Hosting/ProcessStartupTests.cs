using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionApi.Testing;

namespace DiffusionApi.IntegrationTests.Hosting;

/// <summary>What an operator sees when the configured model cannot be loaded: the process stops with the reason.</summary>
public sealed class ProcessStartupTests
{
    [Fact]
    public async Task ModelThatFailsToLoad_StopsTheServiceWithAnErrorNamingTheFile()
    {
        var notAModel = Directory.CreateTempSubdirectory("diffusion-not-a-model-").FullName;
        try
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
                ServiceProcess.StartAsync(SharedTinyModel.Directory, new Dictionary<string, string> { ["Diffusion:Model:Path"] = notAModel }));

            Assert.Contains("exited with 1:", error.Message, StringComparison.Ordinal);
            Assert.Contains("model_index.json", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(notAModel, recursive: true);
        }
    }
}
