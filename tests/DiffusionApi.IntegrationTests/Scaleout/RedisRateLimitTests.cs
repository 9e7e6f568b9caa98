using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Scaleout;

/// <summary>
/// With the Redis backend, Diffusion:RateLimit:PermitsPerMinute counts a caller's requests across every replica: two
/// services sharing one Redis and key prefix, each used once, leave the caller nothing for a third request on either.
/// </summary>
public sealed class RedisRateLimitTests
{
    [SkippableFact]
    public async Task PermitsPerMinute_CountAcrossReplicas_AndTheNextRequestOnEitherIsA429WithRetryAfter()
    {
        var server = await RedisServer.Shared;
        var settings = new Dictionary<string, string?>
        {
            ["Diffusion:Scaleout:Backend"] = "Redis",
            ["Diffusion:Scaleout:Redis"] = server.ConnectionString,
            ["Diffusion:Scaleout:KeyPrefix"] = "rate-" + Guid.NewGuid().ToString("N")[..10],
            ["Diffusion:Scaleout:PollIntervalMs"] = "100",
            ["Diffusion:ApiKeys:0"] = "alice",
            ["Diffusion:ApiKeys:1"] = "bob",
            ["Diffusion:RateLimit:PermitsPerMinute"] = "2",
        };
        await using var replicaA = new DiffusionApiFactory(settings);
        await using var replicaB = new DiffusionApiFactory(settings);
        await replicaA.CreateReadyClientAsync();
        await replicaB.CreateReadyClientAsync();
        var aliceOnA = Caller(replicaA, "alice");
        var aliceOnB = Caller(replicaB, "alice");

        // The window is a whole minute of Redis's clock; should the two permits straddle its end, the test runs again
        // in the next one (it cannot straddle twice).
        HttpResponseMessage limitedOnA = null!, limitedOnB = null!;
        for (var round = 0; round < 2; round++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await aliceOnA.PostAsJsonAsync("/v1/jobs", Requests.Small())).StatusCode);
            Assert.Equal(HttpStatusCode.Accepted, (await aliceOnB.PostAsJsonAsync("/v1/jobs", Requests.Small())).StatusCode);
            limitedOnA = await aliceOnA.PostAsJsonAsync("/v1/jobs", Requests.Small());
            limitedOnB = await aliceOnB.PostAsJsonAsync("/v1/jobs", Requests.Small());
            if (limitedOnA.StatusCode == HttpStatusCode.TooManyRequests && limitedOnB.StatusCode == HttpStatusCode.TooManyRequests) break;
            await Task.Delay(TimeSpan.FromSeconds(61 - DateTime.UtcNow.Second));
        }

        foreach (var limited in new[] { limitedOnA, limitedOnB })
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            Assert.InRange(limited.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
            Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        }
        // Another caller has its own window.
        Assert.Equal(HttpStatusCode.Accepted, (await Caller(replicaB, "bob").PostAsJsonAsync("/v1/jobs", Requests.Small())).StatusCode);
    }

    private static HttpClient Caller(DiffusionApiFactory factory, string key)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }
}
