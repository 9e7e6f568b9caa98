using DiffusionEngine.TinyModel;

namespace DiffusionApi.IntegrationTests.TestSupport;

/// <summary>
/// One built-in tiny model folder shared by every factory in the test run (created once, atomically, by the engine's
/// own <see cref="TinyModelBuilder.EnsureDefault"/>). Tests that check the first-start path use an empty model path instead.
/// </summary>
public static class SharedTinyModel
{
    private static readonly Lazy<string> Folder = new(() =>
        TinyModelBuilder.EnsureDefault(Path.Combine(Path.GetTempPath(), "diffusion-api-tests-model")));

    public static string Directory => Folder.Value;
}
