using System.Net;
using System.Net.Http.Headers;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Api;

public sealed class RateLimitTests
{
    [Fact]
    public async Task CallerOverPermitsPerMinute_Gets429WithRetryAfter_WhileAnotherKeyIsStillServed()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?>
        {
            ["Diffusion:ApiKeys:0"] = "alice",
            ["Diffusion:ApiKeys:1"] = "bob",
            ["Diffusion:RateLimit:PermitsPerMinute"] = "2",
        });
        await factory.CreateReadyClientAsync();
        var alice = factory.CreateClient();
        alice.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "alice");
        var bob = factory.CreateClient();
        bob.DefaultRequestHeaders.Add("X-Api-Key", "bob");

        Assert.Equal(HttpStatusCode.OK, (await alice.PostGenerateAsync(Requests.Small())).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await alice.PostGenerationsAsync(Requests.Small())).StatusCode);
        var limited = await alice.PostGenerateAsync(Requests.Small());

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.NotNull(limited.Headers.RetryAfter);
        await limited.ReadProblemAsync();
        await Metrics.WaitForAsync(alice, "diffusion_requests_rejected_total{otel_scope_name=\"DiffusionService\",reason=\"rate_limited\"} 1");
        Assert.Equal(HttpStatusCode.OK, (await bob.PostGenerateAsync(Requests.Small())).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync("/v1/models")).StatusCode); // discovery is not limited
    }
}
