using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Jobs;

/// <summary>Diffusion:Limits:MaxJobSeconds: a runaway job is stopped and answered 504, and the worker goes on.</summary>
public sealed class JobDeadlineTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AJobPastMaxJobSeconds_IsStopped_AndAnswered504NamingTheLimit()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?> { ["Diffusion:Limits:MaxJobSeconds"] = "1" });
        var client = await factory.CreateReadyClientAsync();
        // The held engine call stands for a job that never ends; only the deadline can stop it.
        factory.Probe.Hold();

        var response = await client.PostGenerateAsync(Requests.Small(prompt: "runaway")).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        var detail = (await response.ReadProblemAsync()).GetProperty("detail").GetString();
        Assert.Contains("Diffusion:Limits:MaxJobSeconds (1 s)", detail, StringComparison.Ordinal);
        Assert.Equal(1, factory.Probe.CancelledCalls);

        // An async job says the same in its error; then, with the engine let go, the worker serves the next job.
        var location = (await client.PostAsJsonAsync("/v1/jobs", Requests.Small(prompt: "runaway too"))).Headers.Location!.ToString();
        var failed = await WaitForFinalAsync(client, location);
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Contains("MaxJobSeconds", failed.GetProperty("error").GetString(), StringComparison.Ordinal);
        factory.Probe.Release();
        Assert.Equal(HttpStatusCode.OK, (await client.PostGenerateAsync(Requests.Small(prompt: "quick"))).StatusCode);
    }

    [Fact]
    public void MaxJobSecondsOutOfRange_FailsAtStartNamingTheSetting()
    {
        var error = DiffusionApiFactory.StartFailure(new Dictionary<string, string?> { ["Diffusion:Limits:MaxJobSeconds"] = "0" });
        Assert.Contains("MaxJobSeconds", error.ToString(), StringComparison.Ordinal);
    }

    private static async Task<JsonElement> WaitForFinalAsync(HttpClient client, string location)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var job = await client.GetFromJsonAsync<JsonElement>(location);
            if (job.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled") return job;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the job did not finish: {job}");
            await Task.Delay(20);
        }
    }
}
