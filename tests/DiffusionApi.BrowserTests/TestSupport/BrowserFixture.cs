using DiffusionApi.Testing;
using DiffusionEngine.TinyModel;
using PuppeteerSharp;

namespace DiffusionApi.BrowserTests.TestSupport;

/// <summary>
/// One headless chromium and the services the browser tests talk to, started once for the whole collection (in
/// parallel) and stopped at its end: the service with no API keys (the playground as a first run sees it), the service
/// with an API key whose CORS setting allows one origin of <see cref="Origins"/>, and that second web server. Both
/// services are the real DiffusionApi process on real Kestrel (127.0.0.1, random ports) on the real tiny model.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ApiKey = "browser-test-key";

    private readonly string _root = Directory.CreateTempSubdirectory("diffusion-browser-tests-").FullName;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>No API keys, no CORS.</summary>
    public ServiceProcess Open { get; private set; } = null!;

    /// <summary>Diffusion:ApiKeys = [<see cref="ApiKey"/>], Diffusion:Cors:AllowedOrigins = [<see cref="OriginServer.AllowedOrigin"/>].</summary>
    public ServiceProcess Keyed { get; private set; } = null!;

    public OriginServer Origins { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (Chromium.SkipReason is not null) return; // every test of the collection is skipped
        var browser = Chromium.LaunchAsync(Path.Combine(_root, "profile"));
        Origins = await OriginServer.StartAsync();
        var model = TinyModelBuilder.EnsureDefault(Path.Combine(_root, "model"));
        var open = ServiceProcess.StartAsync(model);
        var keyed = ServiceProcess.StartAsync(model, new Dictionary<string, string>
        {
            ["Diffusion:ApiKeys:0"] = ApiKey,
            ["Diffusion:Cors:AllowedOrigins:0"] = OriginServer.OriginOf(Origins.AllowedOrigin),
        });
        // Assign each as it comes, so DisposeAsync stops whatever did start when another part failed.
        try
        {
            Browser = await browser;
        }
        finally
        {
            Open = await open;
            Keyed = await keyed;
        }
    }

    /// <summary>A fresh incognito-like context (its own sessionStorage and cache) with one page.</summary>
    public async Task<PageSession> OpenPageAsync(Uri url, ViewPortOptions? viewport = null)
    {
        var context = await Browser.CreateBrowserContextAsync();
        return await PageSession.OpenAsync(context, url, viewport);
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        if (Open is not null) await Open.DisposeAsync();
        if (Keyed is not null) await Keyed.DisposeAsync();
        if (Origins is not null) await Origins.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    /// <summary>Browser tests run one at a time (one chromium, one worker per service), apart from other test projects.</summary>
    public const string Name = "Browser";
}
