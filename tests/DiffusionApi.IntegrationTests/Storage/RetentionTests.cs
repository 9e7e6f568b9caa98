using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Storage;

public sealed class RetentionTests
{
    [Fact]
    public async Task StoredImage_OlderThanRetentionHours_IsRemovedByTheService()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?>
        {
            ["Diffusion:Storage:RetentionHours"] = "1",
            ["Diffusion:Storage:CleanupIntervalSeconds"] = "1",
        });
        var client = await factory.CreateReadyClientAsync();
        var response = await client.PostGenerationsAsync(Requests.Small(responseFormat: "url"));
        var url = new Uri((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data")[0].GetProperty("url").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(url.PathAndQuery)).StatusCode);

        // Age the file past the retention window; the periodic sweep removes it.
        var file = Directory.GetFiles(Path.Combine(factory.DataDirectory, "images")).Single();
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddHours(-2));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (File.Exists(file) && DateTime.UtcNow < deadline) await Task.Delay(50);

        Assert.False(File.Exists(file));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(url.PathAndQuery)).StatusCode);
    }
}
