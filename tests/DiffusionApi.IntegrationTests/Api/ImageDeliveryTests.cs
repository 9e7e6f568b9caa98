using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Api;

/// <summary>
/// Every generated image goes through the image store; an answer that carries the bytes leaves nothing behind there,
/// an answer with URLs keeps the images until the retention sweep.
/// </summary>
public sealed class ImageDeliveryTests
{
    [Fact]
    public async Task InlineAnswers_LeaveNoImageInTheStore_UrlAnswersKeepTheirs()
    {
        await using var factory = new DiffusionApiFactory();
        var client = await factory.CreateReadyClientAsync();
        var images = Path.Combine(factory.DataDirectory, "images");

        var generated = await client.PostGenerateAsync(Requests.Small());
        var inline = await client.PostGenerationsAsync(Requests.Small(n: 2));
        Assert.True(Images.IsPng(await generated.Content.ReadAsByteArrayAsync()));
        var data = (await inline.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data").EnumerateArray().ToArray();
        Assert.All(data, d => Assert.True(Images.IsPng(Convert.FromBase64String(d.GetProperty("b64_json").GetString()!))));
        Assert.Empty(Directory.Exists(images) ? Directory.GetFiles(images) : []);

        var linked = await client.PostGenerationsAsync(Requests.Small(n: 2, responseFormat: "url"));
        var urls = (await linked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data").EnumerateArray().Select(d => new Uri(d.GetProperty("url").GetString()!)).ToArray();

        Assert.Equal(2, Directory.GetFiles(images).Length);
        foreach (var url in urls) Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(url.PathAndQuery)).StatusCode);
    }
}
