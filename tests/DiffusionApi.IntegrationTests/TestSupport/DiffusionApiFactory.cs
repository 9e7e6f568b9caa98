using System.Net.Http.Json;
using DiffusionApi.Engine;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace DiffusionApi.IntegrationTests.TestSupport;

/// <summary>
/// Hosts the real Program on the real tiny model, with its own temp data directory (images, and the built-in model
/// when <paramref name="useBuiltInModel"/>). Settings override Diffusion:* keys; the engine is wrapped by an
/// <see cref="EngineProbe"/> that does nothing unless a test asks it to.
/// </summary>
public sealed class DiffusionApiFactory(
    IReadOnlyDictionary<string, string?>? settings = null,
    bool useBuiltInModel = false,
    EngineProbe? probe = null,
    Action<IServiceCollection>? services = null) : WebApplicationFactory<Program>
{
    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("diffusion-api-test-").FullName;

    public EngineProbe Probe { get; } = probe ?? new EngineProbe();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Diffusion:DataDirectory", DataDirectory);
        // A test that lists Diffusion:Models names its models there (setting both is an error).
        var listsModels = settings?.Keys.Any(k => k.StartsWith("Diffusion:Models:", StringComparison.Ordinal) && char.IsDigit(k["Diffusion:Models:".Length])) == true;
        builder.UseSetting("Diffusion:Model:Path", useBuiltInModel || listsModels ? "" : SharedTinyModel.Directory);
        builder.UseSetting("Diffusion:ShutdownTimeoutSeconds", "10");
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) builder.UseSetting(key, value);
        builder.ConfigureTestServices(collection =>
        {
            collection.AddSingleton(Probe);
            collection.AddSingleton<PipelineEngineLoader>();
            collection.Replace(ServiceDescriptor.Singleton<IGenerationEngineLoader, ProbedEngineLoader>());
            services?.Invoke(collection);
        });
    }

    /// <summary>
    /// Starts a service that must fail to start, and returns the failure's text. WebApplicationFactory may lose a race
    /// with a start that fails fast (its deferred host asks the already disposed provider for the lifetime and throws
    /// ObjectDisposedException instead of the real error); then it starts a fresh factory, a few times.
    /// </summary>
    public static string StartFailure(IReadOnlyDictionary<string, string?> settings)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var factory = new DiffusionApiFactory(settings);
            var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
            if (error is not ObjectDisposedException || attempt == 5) return error.ToString();
        }
    }

    /// <summary>Waits until /health/ready answers 200 (model loaded and warmed up).</summary>
    public async Task<HttpClient> CreateReadyClientAsync()
    {
        var client = CreateClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var response = await client.GetAsync("/health/ready");
            if (response.IsSuccessStatusCode) return client;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not ready: {await response.Content.ReadAsStringAsync()}");
            await Task.Delay(20);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        Probe.Release();
        Probe.ReleaseLoading();
        await base.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Small request builders: 64×64, 2 steps keeps every test fast.</summary>
public static class Requests
{
    public static object Small(string prompt = "a red fox", ulong? seed = 42, int? n = null, string? responseFormat = null, string? outputFormat = null, string size = "64x64", int steps = 2) =>
        new Dictionary<string, object?>
        {
            ["prompt"] = prompt,
            ["size"] = size,
            ["steps"] = steps,
            ["seed"] = seed,
            ["n"] = n,
            ["response_format"] = responseFormat,
            ["output_format"] = outputFormat,
        }.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value);

    public static Task<HttpResponseMessage> PostGenerationsAsync(this HttpClient client, object body, CancellationToken cancellationToken = default) =>
        client.PostAsJsonAsync("/v1/images/generations", body, cancellationToken);

    public static Task<HttpResponseMessage> PostGenerateAsync(this HttpClient client, object body, CancellationToken cancellationToken = default) =>
        client.PostAsJsonAsync("/v1/generate", body, cancellationToken);
}
