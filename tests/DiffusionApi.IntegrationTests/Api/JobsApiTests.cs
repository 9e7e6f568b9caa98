using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace DiffusionApi.IntegrationTests.Api;

public sealed class JobsApiTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    internal static async Task<JsonElement> WaitForStatusAsync(HttpClient client, string location, string status)
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

    [Fact]
    public async Task PostJob_Answers202WithLocation_AndTheJobSucceedsWithImageUrls()
    {
        await using var factory = new DiffusionApiFactory();
        var client = await factory.CreateReadyClientAsync();

        var accepted = await client.PostAsJsonAsync("/v1/jobs", Requests.Small(seed: 77, n: 2));

        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var location = accepted.Headers.Location!.ToString();
        Assert.StartsWith("/v1/jobs/job_", location, StringComparison.Ordinal);
        var done = await WaitForStatusAsync(client, location, "succeeded");
        var progress = done.GetProperty("progress");
        Assert.Equal(progress.GetProperty("total_steps").GetInt32(), progress.GetProperty("step").GetInt32());
        var data = done.GetProperty("data").EnumerateArray().ToArray();
        Assert.Equal([77UL, 78UL], data.Select(d => d.GetProperty("seed").GetUInt64()));
        var image = await client.GetAsync(new Uri(data[0].GetProperty("url").GetString()!).PathAndQuery);
        Assert.True(Images.IsPng(await image.Content.ReadAsByteArrayAsync()));
    }

    [Fact]
    public async Task QueuedJob_ReportsItsPosition_AndDeleteCancelsItBeforeTheEngine()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?> { ["Diffusion:Batching:MaxBatchSize"] = "1" });
        var client = await factory.CreateReadyClientAsync();
        factory.Probe.Hold();
        var running = (await client.PostAsJsonAsync("/v1/jobs", Requests.Small(prompt: "running"))).Headers.Location!.ToString();
        await factory.Probe.WaitForHeldCallAsync(Timeout);
        var queued = (await client.PostAsJsonAsync("/v1/jobs", Requests.Small(prompt: "queued", steps: 3))).Headers.Location!.ToString();

        var status = await client.GetFromJsonAsync<JsonElement>(queued);
        Assert.Equal("queued", status.GetProperty("status").GetString());
        Assert.Equal(1, status.GetProperty("queue_position").GetInt32());
        Assert.Equal("running", (await client.GetFromJsonAsync<JsonElement>(running)).GetProperty("status").GetString());

        // A queued job is cancelled at once, not merely flagged: the answer says so, and it leaves the queue.
        var cancelled = await client.DeleteAsync(queued);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        var cancelledStatus = await cancelled.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("cancelled", cancelledStatus.GetProperty("status").GetString());
        Assert.False(cancelledStatus.TryGetProperty("queue_position", out var position) && position.ValueKind != JsonValueKind.Null);
        Assert.Equal(0, factory.Services.GetRequiredService<DiffusionApi.Jobs.IJobQueue>().Stats.Depth);
        factory.Probe.Release();

        await WaitForStatusAsync(client, running, "succeeded");
        await WaitForStatusAsync(client, queued, "cancelled");
        Assert.DoesNotContain("queued", factory.Probe.PromptsSeen);
        Assert.Equal(HttpStatusCode.Conflict, (await client.DeleteAsync(queued)).StatusCode);
    }

    [Fact]
    public async Task TotalSteps_IsKnownWhileQueued_AndDoesNotChangeWhenTheJobRunsOrEnds()
    {
        // The tiny model's PNDM (skip_prk_steps) runs one warm-up step more than asked: 3 steps report 4.
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?> { ["Diffusion:Batching:MaxBatchSize"] = "1" });
        var client = await factory.CreateReadyClientAsync();
        factory.Probe.Hold();
        var location = (await client.PostAsJsonAsync("/v1/jobs", Requests.Small(steps: 3))).Headers.Location!.ToString();
        var queued = await client.GetFromJsonAsync<JsonElement>(location);
        await factory.Probe.WaitForHeldCallAsync(Timeout);
        var running = await WaitForStatusAsync(client, location, "running");
        factory.Probe.Release();
        var done = await WaitForStatusAsync(client, location, "succeeded");

        int[] totals = [TotalSteps(queued), TotalSteps(running), TotalSteps(done)];
        Assert.Equal([4, 4, 4], totals);
        Assert.Equal(4, done.GetProperty("progress").GetProperty("step").GetInt32());
    }

    [Fact]
    public async Task StepsTheSchedulerCannotSchedule_Are400NamingSteps_NotAFailedJob()
    {
        // PNDM with steps_offset 1 reaches past the 1000 training timesteps at 1000 steps: only 999 can run.
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?> { ["Diffusion:Limits:MaxSteps"] = "1000" });
        var client = await factory.CreateReadyClientAsync();

        var response = await client.PostAsJsonAsync("/v1/jobs", Requests.Small(steps: 1000));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.ReadProblemAsync()).Errors();
        Assert.Contains("steps 1000 cannot run with the pndm scheduler", Assert.Single(errors["steps"]), StringComparison.Ordinal);
    }

    private static int TotalSteps(JsonElement status) => status.GetProperty("progress").GetProperty("total_steps").GetInt32();

    [Fact]
    public async Task Events_StreamQueuedProgressAndCompleted()
    {
        await using var factory = new DiffusionApiFactory();
        var client = await factory.CreateReadyClientAsync();
        factory.Probe.Hold();
        var location = (await client.PostAsJsonAsync("/v1/jobs", Requests.Small(steps: 3))).Headers.Location!.ToString();

        using var stream = await client.GetAsync($"{location}/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", stream.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync());
        var received = new System.Text.StringBuilder();
        await factory.Probe.WaitForHeldCallAsync(Timeout);
        // The engine is held while the job runs: the stream must report it running before it is let go.
        while (await reader.ReadLineAsync().WaitAsync(Timeout) is { } line)
        {
            received.AppendLine(line);
            if (line == "event: progress") break;
        }
        factory.Probe.Release();
        received.Append(await reader.ReadToEndAsync().WaitAsync(Timeout));
        var text = received.ToString();

        var events = text.Split('\n').Where(l => l.StartsWith("event: ", StringComparison.Ordinal)).Select(l => l["event: ".Length..]).ToArray();
        Assert.Equal("completed", events[^1]);
        Assert.Contains("progress", events);
        var progress = text.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l["data: ".Length..]).RootElement.GetProperty("progress")).ToArray();
        var steps = progress.Select(p => p.GetProperty("step").GetInt32()).ToArray();
        Assert.Equal(steps.Order(), steps);
        Assert.Equal(progress[^1].GetProperty("total_steps").GetInt32(), steps[^1]);
    }

    [Fact]
    public async Task Events_CarryIds_AndAReconnectWithLastEventId_ResumesAfterIt()
    {
        await using var factory = new DiffusionApiFactory();
        var client = await factory.CreateReadyClientAsync();
        factory.Probe.Hold();
        var location = (await client.PostAsJsonAsync("/v1/jobs", Requests.Small(steps: 3))).Headers.Location!.ToString();
        await factory.Probe.WaitForHeldCallAsync(Timeout);

        // First connection: read up to the running event, then hang up.
        string lastId;
        using (var first = await client.GetAsync($"{location}/events", HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await first.Content.ReadAsStreamAsync());
            var seen = new List<string>();
            while (await reader.ReadLineAsync().WaitAsync(Timeout) is { } line)
            {
                seen.Add(line);
                if (line == "event: progress") break;
            }
            while (await reader.ReadLineAsync().WaitAsync(Timeout) is { } line && line.Length > 0) seen.Add(line);
            lastId = seen.Last(l => l.StartsWith("id: ", StringComparison.Ordinal))["id: ".Length..];
            Assert.Equal("1", lastId); // running, step 0
        }
        factory.Probe.Release();
        await WaitForStatusAsync(client, location, "succeeded");

        // Reconnect: only what came after the last id, i.e. the completion (id total_steps + 2 = 6 for PNDM's 4 steps).
        using var resumed = new HttpRequestMessage(HttpMethod.Get, $"{location}/events");
        resumed.Headers.Add("Last-Event-ID", lastId);
        var text = await (await client.SendAsync(resumed)).Content.ReadAsStringAsync().WaitAsync(Timeout);
        var lines = text.Split('\n');
        Assert.Equal(["completed"], lines.Where(l => l.StartsWith("event: ", StringComparison.Ordinal)).Select(l => l["event: ".Length..]));
        Assert.Equal(["6"], lines.Where(l => l.StartsWith("id: ", StringComparison.Ordinal)).Select(l => l["id: ".Length..]));

        // A client that saw the end gets nothing more.
        using var again = new HttpRequestMessage(HttpMethod.Get, $"{location}/events");
        again.Headers.Add("Last-Event-ID", "6");
        Assert.DoesNotContain("event: ", await (await client.SendAsync(again)).Content.ReadAsStringAsync().WaitAsync(Timeout), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpiredJob_Answers410GoneOnStatusEventsAndDelete_ThenIsForgotten()
    {
        var clock = new ShiftedTimeProvider();
        await using var factory = new DiffusionApiFactory(
            new Dictionary<string, string?> { ["Diffusion:Storage:RetentionHours"] = "24" },
            services: s => s.Replace(ServiceDescriptor.Singleton<TimeProvider>(clock)));
        var client = await factory.CreateReadyClientAsync();
        var location = (await client.PostAsJsonAsync("/v1/jobs", Requests.Small())).Headers.Location!.ToString();
        await WaitForStatusAsync(client, location, "succeeded");

        clock.Advance(TimeSpan.FromHours(24.5));

        foreach (var response in new[] { await client.GetAsync(location), await client.GetAsync($"{location}/events"), await client.DeleteAsync(location) })
        {
            Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
            Assert.Contains("expired", (await response.ReadProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // Gone for as long again as the job was kept; after that the id is simply unknown.
        clock.Advance(TimeSpan.FromHours(24));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(location)).StatusCode);
    }

    [Fact]
    public async Task ASyncRequestsJobId_IsNotAnAsyncJob_404()
    {
        await using var factory = new DiffusionApiFactory();
        var client = await factory.CreateReadyClientAsync();
        var response = await client.PostGenerateAsync(Requests.Small());
        var jobId = response.Headers.GetValues("X-Job-Id").Single();

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v1/jobs/{jobId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/v1/jobs/{jobId}")).StatusCode);
    }

    [Fact]
    public async Task UnknownJob_Returns404Problem()
    {
        await using var factory = new DiffusionApiFactory();
        var client = factory.CreateClient();

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/jobs/job_0000")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("/v1/jobs/job_0000")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/jobs/job_0000/events")).StatusCode);
    }
}
