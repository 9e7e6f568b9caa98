namespace DiffusionApi.IntegrationTests.TestSupport;

/// <summary>A class fixture: one in-memory service on the tiny model, ready (model loaded, warm-up done), per test class.</summary>
public sealed class ReadyServiceFixture : IAsyncLifetime
{
    public DiffusionApiFactory Factory { get; } = new();
    public HttpClient Client { get; private set; } = null!;
    public async Task InitializeAsync() => Client = await Factory.CreateReadyClientAsync();
    public async Task DisposeAsync() => await Factory.DisposeAsync();
}
