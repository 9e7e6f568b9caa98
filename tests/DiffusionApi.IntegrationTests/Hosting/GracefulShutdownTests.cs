using System.Net;
using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionApi.Testing;

namespace DiffusionApi.IntegrationTests.Hosting;

/// <summary>SIGTERM on the real service process: stop taking jobs, finish what was accepted, then exit.</summary>
public sealed class GracefulShutdownTests
{
    [Fact]
    public async Task Sigterm_FinishesRunningAndQueuedJobs_ThenExitsCleanly()
    {
        if (!OperatingSystem.IsLinux()) return; // signals: Linux containers are the target
        await using var service = await ServiceProcess.StartAsync(SharedTinyModel.Directory, new Dictionary<string, string>
        {
            ["Diffusion:Batching:MaxBatchSize"] = "1",
            ["Diffusion:Batching:MaxDelayMs"] = "0",
            ["Diffusion:ShutdownTimeoutSeconds"] = "60",
        });
        using var client = service.CreateClient();

        // Three slow jobs: one runs, two wait in the queue when the signal arrives.
        var jobs = Enumerable.Range(0, 3)
            .Select(i => client.PostGenerateAsync(Requests.Small(prompt: $"job {i}", size: "256x256", steps: 12)))
            .ToArray();
        // Signal only once all three were accepted (one started), so none of them can arrive after draining began.
        while (CountOf(service.Output, " queued: ") < 3 || !service.Output.Contains("started in a batch", StringComparison.Ordinal)) await Task.Delay(10);
        service.Terminate();

        foreach (var response in await Task.WhenAll(jobs))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(Images.IsPng(await response.Content.ReadAsByteArrayAsync()));
        }
        Assert.True(await service.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the service did not exit");
        Assert.Equal(0, service.ExitCode);
        Assert.Matches("Draining: no new jobs; [12] queued jobs will finish", service.Output);
        Assert.Contains("Queue drained", service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_WhileAJobDrains_NewJobsAndReadinessGet503WithRetryAfter_NotARefusedConnection()
    {
        if (!OperatingSystem.IsLinux()) return;
        await using var service = await ServiceProcess.StartAsync(SharedTinyModel.Directory, new Dictionary<string, string>
        {
            ["Diffusion:ShutdownTimeoutSeconds"] = "60",
            ["Diffusion:Queue:RetryAfterSeconds"] = "9",
        });
        using var client = service.CreateClient();
        var running = client.PostGenerateAsync(Requests.Small(prompt: "long", size: "512x512", steps: 60));
        while (!service.Output.Contains("started in a batch", StringComparison.Ordinal)) await Task.Delay(10);

        service.Terminate();
        while (!service.Output.Contains("Draining: no new jobs", StringComparison.Ordinal)) await Task.Delay(5);

        // A fresh connection: the server still listens while the accepted job finishes.
        using var late = service.CreateClient();
        var rejected = await late.PostGenerateAsync(Requests.Small(prompt: "too late"));
        var ready = await late.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(9), rejected.Headers.RetryAfter?.Delta);
        Assert.Contains("shutting down", (await rejected.ReadProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(9), ready.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.OK, (await running).StatusCode); // accepted before SIGTERM: it finishes
        Assert.True(await service.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the service did not exit");
        Assert.Equal(0, service.ExitCode);
    }

    [Fact]
    [Trait("Suite", "Reliability")]
    public async Task Sigterm_WhenAJobOutlastsTheShutdownTimeout_Answers503WithRetryAfter_LogsItById_AndExitsWithinTheTimeout()
    {
        if (!OperatingSystem.IsLinux()) return;
        await using var service = await ServiceProcess.StartAsync(SharedTinyModel.Directory, new Dictionary<string, string>
        {
            ["Diffusion:ShutdownTimeoutSeconds"] = "4",
            ["Diffusion:Queue:RetryAfterSeconds"] = "11",
        });
        using var client = service.CreateClient();
        // Far more work than the shutdown timeout leaves it (about a minute on a 2-core machine).
        var endless = client.PostGenerateAsync(Requests.Small(prompt: "endless", size: "512x512", steps: 150));
        while (!service.Output.Contains("started in a batch", StringComparison.Ordinal)) await Task.Delay(10);

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        service.Terminate();

        // The worker gives up shortly before the timeout, so the waiting client is answered, not reset.
        var response = await endless;
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{service.Output}");
        Assert.Equal(TimeSpan.FromSeconds(11), response.Headers.RetryAfter?.Delta);
        Assert.Contains("shutdown timeout", (await response.ReadProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(await service.WaitForExitAsync(TimeSpan.FromSeconds(15)), "the service did not exit");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(12), $"exit took {stopwatch.Elapsed}");
        var jobId = response.Headers.GetValues("X-Job-Id").Single();
        Assert.Contains($"Job {jobId} failed unfinished", service.Output, StringComparison.Ordinal);
    }

    private static int CountOf(string text, string value)
    {
        var count = 0;
        for (var at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal)) count++;
        return count;
    }
}
