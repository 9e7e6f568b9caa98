using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Scaleout;

/// <summary>
/// The service on the Redis job backend (Diffusion:Scaleout:Backend=Redis) against a real redis-server, over HTTP:
/// jobs run, Idempotency-Key answers the first job, the global queue bound answers 503, and a Redis outage is a 503
/// with Retry-After and a failing readiness probe that heal by themselves.
/// </summary>
public sealed class RedisBackendApiTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static Dictionary<string, string?> RedisSettings(RedisServer server, params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Diffusion:Scaleout:Backend"] = "Redis",
            ["Diffusion:Scaleout:Redis"] = server.ConnectionString,
            ["Diffusion:Scaleout:KeyPrefix"] = "api-" + Guid.NewGuid().ToString("N")[..10],
            ["Diffusion:Scaleout:PollIntervalMs"] = "100",
        };
        foreach (var (key, value) in more) settings[key] = value;
        return settings;
    }

    private static async Task<JsonElement> WaitForStatusAsync(HttpClient client, string location, string status)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var job = await client.GetFromJsonAsync<JsonElement>(location);
            if (job.GetProperty("status").GetString() == status) return job;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"job never reached {status}: {job}");
            await Task.Delay(20);
        }
    }

    [SkippableFact]
    public async Task AJob_RunsThroughRedis_AndItsImageIsServed()
    {
        var server = await RedisServer.Shared;
        await using var factory = new DiffusionApiFactory(RedisSettings(server));
        var client = await factory.CreateReadyClientAsync();

        var accepted = await client.PostAsJsonAsync("/v1/jobs", Requests.Small(seed: 7));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var done = await WaitForStatusAsync(client, accepted.Headers.Location!.ToString(), "succeeded");

        var url = done.GetProperty("data")[0].GetProperty("url").GetString()!;
        Assert.True(Images.IsPng(await client.GetByteArrayAsync(new Uri(url).PathAndQuery)));
        Assert.Equal(HttpStatusCode.OK, (await client.PostGenerateAsync(Requests.Small())).StatusCode);
    }

    [SkippableFact]
    public async Task AnInpaintingJob_CarriesItsImageAndMaskThroughRedis_AndKeepsTheUnmaskedPixels()
    {
        var server = await RedisServer.Shared;
        await using var factory = new DiffusionApiFactory(RedisSettings(server));
        var client = await factory.CreateReadyClientAsync();
        var init = TestImages.Gradient();
        var body = (Dictionary<string, object?>)Requests.Small(prompt: "inpaint via redis", steps: 4);
        body["image"] = TestImages.DataUrl(init);
        body["mask"] = Convert.ToBase64String(TestImages.LuminanceMask(64, 64, (x, _) => x < 32));

        var response = await client.PostGenerateAsync(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var output = Images.DecodePixels(await response.Content.ReadAsByteArrayAsync());
        var input = Images.DecodePixels(init);
        for (var y = 0; y < 64; y += 3)
        {
            for (var x = 32; x < 64; x += 3) Assert.Equal(TestImages.PixelAt(input, 64, x, y), TestImages.PixelAt(output, 64, x, y));
        }
        // The worker decoded the images from the job's JSON in Redis: the same pixels as sent.
        var request = Assert.Single(factory.Probe.Batches.Single(b => b[0].Prompt == "inpaint via redis"));
        Assert.Equal(input, request.InitImage!.Pixels);
        Assert.Equal(DiffusionEngine.Pipelines.GenerationMode.Inpaint, request.Mode);
    }

    [SkippableFact]
    public async Task TheSameIdempotencyKey_AnswersTheFirstJob_AndABadKeyIsA400NamingTheHeader()
    {
        var server = await RedisServer.Shared;
        await using var factory = new DiffusionApiFactory(RedisSettings(server));
        var client = await factory.CreateReadyClientAsync();

        var first = await PostJobAsync(client, "order-1", Requests.Small(prompt: "first"));
        var repeat = await PostJobAsync(client, "order-1", Requests.Small(prompt: "repeat"));
        var other = await PostJobAsync(client, "order-2", Requests.Small(prompt: "other"));

        Assert.Equal(HttpStatusCode.Accepted, repeat.StatusCode);
        Assert.Equal(first.Headers.Location, repeat.Headers.Location);
        Assert.NotEqual(first.Headers.Location, other.Headers.Location);
        var bad = await PostJobAsync(client, new string('k', 256), Requests.Small());
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("Idempotency-Key", (await bad.ReadProblemAsync()).Errors().Keys);
    }

    [SkippableFact]
    public async Task MaxQueueLength_IsGlobal_AndOneMoreJobIsA503WithRetryAfter()
    {
        var server = await RedisServer.Shared;
        await using var factory = new DiffusionApiFactory(RedisSettings(server, ("Diffusion:Scaleout:MaxQueueLength", "1"), ("Diffusion:Batching:MaxBatchSize", "1")));
        var client = await factory.CreateReadyClientAsync();
        factory.Probe.Hold();
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/v1/jobs", Requests.Small(prompt: "running"))).StatusCode);
        await factory.Probe.WaitForHeldCallAsync(Timeout);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/v1/jobs", Requests.Small(prompt: "waiting"))).StatusCode);

        var refused = await client.PostAsJsonAsync("/v1/jobs", Requests.Small(prompt: "one too many"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        factory.Probe.Release();
    }

    [SkippableFact]
    public async Task WithRedisDown_GenerationIsA503AndReadinessFails_AndBothHealWhenRedisReturns()
    {
        await using var server = await RedisServer.StartAsync();
        await using var factory = new DiffusionApiFactory(RedisSettings(server));
        var client = await factory.CreateReadyClientAsync();

        server.Kill();
        var refused = await client.PostAsJsonAsync("/v1/jobs", Requests.Small());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health/ready")).StatusCode);

        await server.RestartAsync();
        await EventuallyAsync(async () => (await client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK, "readiness heals");
        var accepted = await client.PostAsJsonAsync("/v1/jobs", Requests.Small());
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        await WaitForStatusAsync(client, accepted.Headers.Location!.ToString(), "succeeded");
    }

    private static async Task<HttpResponseMessage> PostJobAsync(HttpClient client, string key, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        return await client.SendAsync(request);
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting until {what}");
            await Task.Delay(100);
        }
    }
}
