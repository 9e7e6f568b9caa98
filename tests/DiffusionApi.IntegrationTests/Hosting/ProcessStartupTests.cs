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

    [Fact]
    public async Task StoragePathThatIsAFile_StopsTheStartWithExitCode1_NamingTheSetting()
    {
        var file = Path.GetTempFileName();
        try
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
                ServiceProcess.StartAsync(SharedTinyModel.Directory, new Dictionary<string, string> { ["Diffusion:Storage:Path"] = file }));

            Assert.Contains("exited with 1:", error.Message, StringComparison.Ordinal);
            Assert.Contains("Diffusion:Storage:Path", error.Message, StringComparison.Ordinal);
            Assert.Contains("is a file", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled exception", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [SkippableFact]
    public async Task StoragePathThatIsNotWritable_StopsTheStartWithExitCode1_NamingTheSetting()
    {
        var folder = Directory.CreateTempSubdirectory("diffusion-read-only-").FullName;
        try
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            Skip.If(CanWrite(folder), "this user writes to read-only folders (root): nothing to test here");

            var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
                ServiceProcess.StartAsync(SharedTinyModel.Directory, new Dictionary<string, string> { ["Diffusion:Storage:Path"] = folder }));

            Assert.Contains("exited with 1:", error.Message, StringComparison.Ordinal);
            Assert.Contains("Diffusion:Storage:Path", error.Message, StringComparison.Ordinal);
            Assert.Contains("not writable", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task AnInvalidSetting_StopsTheStartWithExitCode1_NamingTheSetting()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            ServiceProcess.StartAsync(SharedTinyModel.Directory, new Dictionary<string, string> { ["Diffusion:Storage:Provider"] = "Floppy" }));

        Assert.Contains("exited with 1:", error.Message, StringComparison.Ordinal);
        Assert.Contains("Diffusion:Storage:Provider", error.Message, StringComparison.Ordinal);
    }

    private static bool CanWrite(string folder)
    {
        try
        {
            var probe = Path.Combine(folder, "probe");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
