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

    public static TheoryData<string, string?, string, int, string> ClientErrors() => new()
    {
        { "/v1/images/generations", "{\"prompt\":", "application/json", 400, "not valid JSON" },
        { "/v1/images/generations", "", "application/json", 400, "body is empty" },
        { "/v1/images/generations", "null", "application/json", 400, "body is null" },
        { "/v1/generate", "{\"prompt\":\"a \u00ff fox\"}", "application/json; charset=latin1", 400, "not valid UTF-8" },
        { "/v1/images/generations", "{\"prompt\":\"fox\",\"size\":\"500x64\"}", "application/json", 400, "width must be a multiple of 8 but was 500" },
        { "/v1/images/generations", "{\"prompt\":\"fox\",\"cfg_scale\":7}", "application/json", 400, "cfg_scale: unknown field; use guidance_scale" },
        { "/v1/images/generations", "prompt=fox", "application/x-www-form-urlencoded", 415, "Content-Type: application/json" },
        { "/v1/nothing-here", null, "", 404, "Not Found" },
    };

    [Theory]
    [MemberData(nameof(ClientErrors))]
    public async Task ClientError_IsLoggedAsOneWarningNamingStatusAndReason_NeverAsAnError(string path, string? body, string contentType, int status, string reason)
    {
        var sink = new CollectingSink();
        await using var factory = new DiffusionApiFactory(services: s => s.AddSingleton<ILogEventSink>(sink));
        var client = await factory.CreateReadyClientAsync();
        lock (sink.Events) sink.Events.Clear();
        HttpResponseMessage response;
        if (body is null)
        {
            response = await client.GetAsync(path);
        }
        else
        {
            // Latin-1 bytes where UTF-8 is expected, for the invalid UTF-8 case.
            var bytes = contentType.Contains("latin1", StringComparison.Ordinal) ? System.Text.Encoding.Latin1.GetBytes(body) : System.Text.Encoding.UTF8.GetBytes(body);
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType.Replace("; charset=latin1", "", StringComparison.Ordinal));
            response = await client.PostAsync(path, content);
        }
        Assert.Equal(status, (int)response.StatusCode);

        LogEvent? summary = null;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (summary is null && DateTime.UtcNow < deadline)
        {
            lock (sink.Events) summary = sink.Events.FirstOrDefault(e => e.Properties.ContainsKey("StatusCode") && e.Properties.ContainsKey("Elapsed"));
            await Task.Delay(20);
        }
        Assert.NotNull(summary);
        Assert.Equal(LogEventLevel.Warning, summary.Level);
        Assert.Null(summary.Exception);
        var line = summary.RenderMessage();
        Assert.Contains($"responded {status} (", line, StringComparison.Ordinal);
        Assert.Contains(reason, line, StringComparison.Ordinal);
        lock (sink.Events) Assert.DoesNotContain(sink.Events, e => e.Level >= LogEventLevel.Error);
    }

    [Fact]
    public void UnknownLogFormat_FailsAtStart()
    {
        var error = DiffusionApiFactory.StartFailure(new Dictionary<string, string?> { ["Diffusion:Logging:Format"] = "xml" });
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
