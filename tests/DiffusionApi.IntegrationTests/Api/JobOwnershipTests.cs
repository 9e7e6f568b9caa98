using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionApi.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionApi.IntegrationTests.Api;

/// <summary>With API keys, an async job belongs to the key that created it: another key gets 404 for all of it.</summary>
public sealed class JobOwnershipTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AnotherKey_Gets404ForStatusEventsAndCancel_AndTheOwnerIsKeptAsAHash()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?>
        {
            ["Diffusion:ApiKeys:0"] = "owner-key",
            ["Diffusion:ApiKeys:1"] = "other-key",
        });
        var owner = await ClientAsync(factory, "owner-key");
        var other = await ClientAsync(factory, "other-key");

        var accepted = await owner.PostAsJsonAsync("/v1/jobs", Requests.Small());
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var location = accepted.Headers.Location!.ToString();

        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync(location)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"{location}/events")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync(location)).StatusCode);
        var unknown = await (await other.GetAsync(location)).ReadProblemAsync();
        Assert.Equal("no job has this id", unknown.GetProperty("detail").GetString());

        // The owner still sees it (the other key's cancel did nothing), and the record holds a hash, never the key.
        var deadline = DateTime.UtcNow + Timeout;
        JsonElement status;
        while ((status = await owner.GetFromJsonAsync<JsonElement>(location)).GetProperty("status").GetString() != "succeeded")
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(status.ToString());
            await Task.Delay(20);
        }
        var record = (await factory.Services.GetRequiredService<IJobStore>().GetAsync(location.Split('/')[^1])).Job!;
        Assert.Matches("^[0-9a-f]{32}$", record.Job.Owner);
        Assert.DoesNotContain("owner-key", JobJson.Serialize(record.Job), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnIdempotencyKey_OfAnotherApiKeysJob_Is400_NotThatJob()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?>
        {
            ["Diffusion:ApiKeys:0"] = "owner-key",
            ["Diffusion:ApiKeys:1"] = "other-key",
        });
        var owner = await ClientAsync(factory, "owner-key");
        var other = await ClientAsync(factory, "other-key");

        using var first = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JsonContent.Create(Requests.Small()) };
        first.Headers.Add("Idempotency-Key", "shared-key-1");
        Assert.Equal(HttpStatusCode.Accepted, (await owner.SendAsync(first)).StatusCode);
        using var repeat = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JsonContent.Create(Requests.Small()) };
        repeat.Headers.Add("Idempotency-Key", "shared-key-1");

        var response = await other.SendAsync(repeat);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("another API key", Assert.Single((await response.ReadProblemAsync()).Errors()["Idempotency-Key"]), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AStoredImage_IsItsKeysOnly_UnlessPublicImageUrlsIsOn(bool publicUrls)
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?>
        {
            ["Diffusion:ApiKeys:0"] = "owner-key",
            ["Diffusion:ApiKeys:1"] = "other-key",
            ["Diffusion:Storage:PublicImageUrls"] = publicUrls ? "true" : "false",
        });
        var owner = await ClientAsync(factory, "owner-key");
        var other = await ClientAsync(factory, "other-key");
        var anonymous = factory.CreateClient();

        var response = await owner.PostGenerationsAsync(Requests.Small(responseFormat: "url"));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var url = new Uri(body.RootElement.GetProperty("data")[0].GetProperty("url").GetString()!).PathAndQuery;

        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync(url)).StatusCode);
        var expected = publicUrls ? HttpStatusCode.OK : HttpStatusCode.NotFound;
        Assert.Equal(expected, (await other.GetAsync(url)).StatusCode);
        Assert.Equal(publicUrls ? HttpStatusCode.OK : HttpStatusCode.Unauthorized, (await anonymous.GetAsync(url)).StatusCode);
        // Public image URLs open images only: everything else still needs a key.
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/models")).StatusCode);
    }

    private static async Task<HttpClient> ClientAsync(DiffusionApiFactory factory, string key)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var deadline = DateTime.UtcNow + Timeout;
        while (!(await client.GetAsync("/health/ready")).IsSuccessStatusCode)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("not ready");
            await Task.Delay(20);
        }
        return client;
    }
}
