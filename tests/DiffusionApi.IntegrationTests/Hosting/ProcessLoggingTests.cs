using System.Net;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionApi.Testing;

namespace DiffusionApi.IntegrationTests.Hosting;

/// <summary>The console log of the real process, as a log collector reads it.</summary>
public sealed class ProcessLoggingTests
{
    [Fact]
    public async Task JsonLogFormat_WritesCompactJsonLines_AndEveryJobLineCarriesJobIdAndTraceId()
    {
        await using var service = await ServiceProcess.StartAsync(SharedTinyModel.Directory, new Dictionary<string, string> { ["Diffusion:Logging:Format"] = "json" });
        using var client = service.CreateClient();

        var response = await client.PostGenerateAsync(Requests.Small());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var jobId = response.Headers.GetValues("X-Job-Id").Single();

        JsonElement[] jobLines = [];
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            // ONNX Runtime's native code may print its own (non-JSON) lines; every line of ours is one JSON object.
            var ours = service.Output.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();
            Assert.All(ours, line => Assert.True(line.TryGetProperty("@t", out _)));
            jobLines = ours.Where(l => l.TryGetProperty("JobId", out var id) && id.GetString() == jobId).ToArray();
            if (jobLines.Length >= 4) break; // queued, started, succeeded, request summary
            await Task.Delay(50);
        }
        Assert.True(jobLines.Length >= 4, $"only {jobLines.Length} JSON lines carry the job id");
        var traceIds = jobLines.Select(l => l.GetProperty("TraceId").GetString()).Distinct().ToArray();
        Assert.Single(traceIds);
        Assert.Equal(32, traceIds[0]!.Length);
    }
}
