using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using DiffusionApi.IntegrationTests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;

namespace DiffusionApi.IntegrationTests.Observability;

public sealed class LoggingTests
{
    private sealed class CollectingSink : ILogEventSink
    {
        public List<LogEvent> Events { get; } = [];

        public void Emit(LogEvent logEvent)
        {
            lock (Events) Events.Add(logEvent);
        }
    }

    [Fact]
    public async Task EveryLogLineOfAJob_CarriesItsJobIdAndTraceId()
    {
        var sink = new CollectingSink();
        await using var factory = new DiffusionApiFactory(services: s => s.AddSingleton<ILogEventSink>(sink));
        var client = await factory.CreateReadyClientAsync();
        var traceId = ActivityTraceId.CreateRandom();
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/generate") { Content = JsonContent.Create(Requests.Small()) };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");

        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var jobId = response.Headers.GetValues("X-Job-Id").Single();

        LogEvent[] jobLines = [];
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            lock (sink.Events) jobLines = sink.Events.Where(e => e.Properties.TryGetValue("JobId", out var v) && v.ToString().Trim('"') == jobId).ToArray();
            if (jobLines.Length >= 4) break; // queued, started, succeeded, request summary
            await Task.Delay(20);
        }
        string all;
        lock (sink.Events) all = string.Join("\n", sink.Events.Select(e => e.RenderMessage() + " " + string.Join(",", e.Properties.Keys)));
        Assert.True(jobLines.Length >= 4, $"only {jobLines.Length} lines carry the job id:\n{all}");
        Assert.All(jobLines, e => Assert.Equal(traceId.ToString(), e.Properties["TraceId"].ToString().Trim('"')));
        // Every line mentioning the job also carries it as a property.
        lock (sink.Events)
        {
            Assert.All(sink.Events.Where(e => e.RenderMessage().Contains(jobId, StringComparison.Ordinal)), e => Assert.Contains(e, jobLines));
        }
    }

    [Fact]
    public void UnknownLogFormat_FailsAtStart()
    {
        using var factory = new DiffusionApiFactory(new Dictionary<string, string?> { ["Diffusion:Logging:Format"] = "xml" });

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("Diffusion:Logging:Format", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task JsonLogFormat_StartsAndServes()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?> { ["Diffusion:Logging:Format"] = "json" });
        var client = await factory.CreateReadyClientAsync();

        Assert.Equal(HttpStatusCode.OK, (await client.PostGenerateAsync(Requests.Small())).StatusCode);
    }
}
