using DiffusionEngine.TinyModel;

namespace DiffusionApi.IntegrationTests.TestSupport;

/// <summary>
/// One built-in tiny model folder shared by every factory and service process of this test run, written once by the
/// engine's own <see cref="TinyModelBuilder.EnsureDefault"/> into a fresh temp folder (so it always matches the engine
/// under test) and removed when the run ends. Tests of the first-start path use an empty model path instead.
/// </summary>
public static class SharedTinyModel
{
    private static readonly Lazy<string> Folder = new(() =>
    {
        var root = System.IO.Directory.CreateTempSubdirectory("diffusion-api-tests-model-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                System.IO.Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return TinyModelBuilder.EnsureDefault(root);
    });

    public static string Directory => Folder.Value;

    private static readonly Lazy<string> HiddenStatesFolder = new(() =>
    {
        var folder = Path.Combine(Path.GetDirectoryName(Folder.Value)!, "tiny-sd-hidden-states");
        TinyModelBuilder.Write(folder, new TinyModelOptions { TextEncoderHiddenStates = true });
        return folder;
    });

    /// <summary>The tiny model exported with its text encoder's hidden_states outputs (clip skip works on it), beside <see cref="Directory"/>.</summary>
    public static string WithHiddenStates => HiddenStatesFolder.Value;

    private static readonly Lazy<string> WithoutEncoderFolder = new(() =>
    {
        var folder = Path.Combine(Path.GetDirectoryName(Folder.Value)!, "tiny-sd-no-vae-encoder");
        TinyModelBuilder.Write(folder, new TinyModelOptions());
        System.IO.Directory.Delete(Path.Combine(folder, "vae_encoder"), recursive: true);
        return folder;
    });

    /// <summary>The tiny model without vae_encoder/ (a text-to-image-only export): it cannot encode an init image.</summary>
    public static string WithoutVaeEncoder => WithoutEncoderFolder.Value;
}
