using DiffusionApi.Testing;
using DiffusionEngine.TinyModel;

namespace DiffusionApi.BrowserTests.TestSupport;

/// <summary>The service on the tiny LCM model, whose /v1/models capabilities are txt2img only (LCM takes no images).</summary>
public sealed class TxtToImgOnlyService : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("diffusion-browser-lcm-").FullName;

    public ServiceProcess Service { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (Chromium.SkipReason is not null) return;
        var model = Path.Combine(_root, "tiny-lcm");
        TinyModelBuilder.Write(model, new TinyModelOptions { Preset = TinyModelPreset.TinyLcm });
        Service = await ServiceProcess.StartAsync(model);
    }

    public async Task DisposeAsync()
    {
        if (Service is not null) await Service.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
