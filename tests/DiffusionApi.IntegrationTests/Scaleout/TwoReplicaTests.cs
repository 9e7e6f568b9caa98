using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionApi.Testing;
using StackExchange.Redis;
using static DiffusionApi.IntegrationTests.Scaleout.ReplicaCluster;

namespace DiffusionApi.IntegrationTests.Scaleout;

/// <summary>
/// Two real service processes A and B on one machine sharing one redis-server and one moto S3 (issue 10 pt 8): a job
/// submitted to one is polled, streamed, cancelled and fetched through the other; a replica killed mid-job loses nothing;
/// limits and idempotency hold across both; a Redis restart and a SIGTERM lose no job. Jobs are made slow with steps on
/// the tiny model, never with sleeps. Every test stops the processes it started.
/// </summary>
public sealed class TwoReplicaTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(120);

    [SkippableFact]
    public async Task AJobSubmittedToA_IsStreamedPolledAndFetchedThroughB_AndAnotherIsCancelledThroughB()
    {
        await using var cluster = await StartAsync();
        var a = await cluster.StartReplicaAsync();
        var b = await cluster.StartReplicaAsync();
        using var onA = a.CreateClient();
        using var onB = b.CreateClient();

        var location = await SubmitAsync(onA, Requests.Small(seed: 5));
        var events = await ReadEventsAsync(onB, location + "/events");
        Assert.Equal("completed", events[^1]);
        Assert.Single(events, e => e == "completed");
        var job = await onB.GetFromJsonAsync<JsonElement>(location);
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        var image = new Uri(job.GetProperty("data")[0].GetProperty("url").GetString()!).PathAndQuery;
        Assert.True(Images.IsPng(await onB.GetByteArrayAsync(image)));
        Assert.Equal(await onB.GetByteArrayAsync(image), await onA.GetByteArrayAsync(image));

        var slow = await SubmitAsync(onA, SlowJob());
        using var cancel = await onB.DeleteAsync(slow);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        var cancelled = await WaitForAsync(onA, slow, IsFinal, Long);
        Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
        await cluster.AssertNothingPendingAsync();
    }

    [SkippableFact]
    public async Task AReplicaKilledMidJob_LosesNothing_TheOtherReclaimsIt_AndItSucceedsOnAttempt2WithOneCompletion()
    {
        await using var cluster = await StartAsync();
        var a = await cluster.StartReplicaAsync();
        var b = await cluster.StartReplicaAsync();
        var finished = await CountFinishedEventsAsync(cluster);

        using var onA = a.CreateClient();
        var location = await SubmitAsync(onA, SlowJob());
        var id = JobIdOf(location);
        await WaitForAsync(onA, location, IsRunningMidway, Long);
        var holder = await cluster.OwnerOfAsync(id, a, b);
        Assert.NotNull(holder);
        var survivor = holder == a ? b : a;
        await holder.KillAsync();

        using var onSurvivor = survivor.CreateClient();
        var done = await WaitForAsync(onSurvivor, location, IsFinal, Long);
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.Equal("2", await cluster.JobFieldAsync(id, "attempt"));
        Assert.True(Images.IsPng(await onSurvivor.GetByteArrayAsync(new Uri(done.GetProperty("data")[0].GetProperty("url").GetString()!).PathAndQuery)));
        await Task.Delay(TimeSpan.FromSeconds(1)); // a late second completion would have arrived by now
        Assert.Equal(1, finished.GetValueOrDefault(id));
        await cluster.AssertNothingPendingAsync();
    }

    [SkippableFact]
    public async Task FiftyJobsAlternatingBetweenReplicas_WhileOneIsKilledAndRestarted_EachEndOnce_AndNothingIsLeftPending()
    {
        await using var cluster = await StartAsync();
        var a = await cluster.StartReplicaAsync();
        var b = await cluster.StartReplicaAsync();
        var finished = await CountFinishedEventsAsync(cluster);
        using var onB = b.CreateClient();
        var onA = a.CreateClient();
        var aAlive = true;

        var locations = new List<string>();
        for (var i = 0; i < 50; i++)
        {
            if (i == 15)
            {
                await a.KillAsync();
                aAlive = false;
            }
            if (i == 30)
            {
                onA.Dispose();
                a = await cluster.StartReplicaAsync();
                onA = a.CreateClient();
                aAlive = true;
            }
            var target = i % 2 == 0 && aAlive ? onA : onB;
            locations.Add(await SubmitAsync(target, Requests.Small(prompt: $"job {i}", seed: (ulong)i, size: "128x128", steps: 8)));
        }

        foreach (var location in locations)
        {
            var job = await WaitForAsync(onB, location, IsFinal, Long);
            Assert.Equal("succeeded", job.GetProperty("status").GetString());
        }
        onA.Dispose();
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.All(locations, l => Assert.Equal(1, finished.GetValueOrDefault(JobIdOf(l))));
        await cluster.AssertNothingPendingAsync();
    }

    [SkippableFact]
    public async Task TheGlobalQueueLimit_IsA503WithRetryAfterOnBothReplicas()
    {
        await using var cluster = await StartAsync();
        // API-only replicas run no worker, so what they accept stays waiting.
        (string, string)[] settings = [("Diffusion:Node:Role", "Api"), ("Diffusion:Scaleout:MaxQueueLength", "2")];
        var a = await cluster.StartReplicaAsync(settings);
        var b = await cluster.StartReplicaAsync(settings);
        using var onA = a.CreateClient();
        using var onB = b.CreateClient();

        await SubmitAsync(onA, Requests.Small(prompt: "one"));
        await SubmitAsync(onB, Requests.Small(prompt: "two"));

        foreach (var client in new[] { onA, onB })
        {
            using var refused = await client.PostAsJsonAsync("/v1/jobs", Requests.Small(prompt: "three"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }
    }

    [SkippableFact]
    public async Task TheSameIdempotencyKey_OnBothReplicasAtOnce_IsOneJob()
    {
        await using var cluster = await StartAsync();
        var a = await cluster.StartReplicaAsync(("Diffusion:Node:Role", "Api"));
        var b = await cluster.StartReplicaAsync(("Diffusion:Node:Role", "Api"));
        using var onA = a.CreateClient();
        using var onB = b.CreateClient();

        for (var i = 0; i < 5; i++)
        {
            var key = $"order-{i}";
            var both = await Task.WhenAll(
                SubmitAsync(onA, Requests.Small(prompt: "via A"), key),
                SubmitAsync(onB, Requests.Small(prompt: "via B"), key));
            Assert.Equal(both[0], both[1]);
        }
        Assert.Equal(5, await (await cluster.DatabaseAsync()).SortedSetLengthAsync($"{cluster.Prefix}:waiting"));
    }

    [SkippableFact]
    public async Task RedisRestartedWithJobsQueued_TheJobsStillFinish()
    {
        await using var cluster = await StartAsync(ownRedis: true);
        // Leases longer than the outage: the jobs running through it keep theirs (idle times survive in the AOF) rather
        // than being retried on a loaded machine until they run out of attempts.
        var a = await cluster.StartReplicaAsync(("Diffusion:Scaleout:LeaseSeconds", "15"));
        var b = await cluster.StartReplicaAsync(("Diffusion:Scaleout:LeaseSeconds", "15"));
        using var onA = a.CreateClient();
        using var onB = b.CreateClient();

        var locations = new List<string>();
        for (var i = 0; i < 6; i++)
            locations.Add(await SubmitAsync(i % 2 == 0 ? onA : onB, Requests.Small(prompt: $"job {i}", size: "256x256", steps: 12)));
        Assert.True((await onA.GetFromJsonAsync<JsonElement>(locations[^1])).GetProperty("status").GetString() == "queued",
            "the last job should still wait when Redis goes down");
        cluster.Redis.Kill();
        await Task.Delay(TimeSpan.FromSeconds(1));
        await cluster.Redis.RestartAsync();

        foreach (var location in locations)
        {
            var job = await WaitForAsync(onB, location, IsFinal, Long);
            Assert.True(job.GetProperty("status").GetString() == "succeeded", $"{job}\nA:\n{a.Output}\nB:\n{b.Output}");
        }
        Assert.False(a.HasExited || b.HasExited, "a replica stopped when Redis went away");
        await cluster.AssertNothingPendingAsync();
    }

    [SkippableFact]
    public async Task SigtermMidJob_ReleasesTheJob_AndTheOtherReplicaTakesItAtOnce()
    {
        await using var cluster = await StartAsync();
        // Leases far longer than the test waits: only a release hands the job over in time, not the reaper.
        (string, string)[] settings = [("Diffusion:Scaleout:LeaseSeconds", "300"), ("Diffusion:ShutdownTimeoutSeconds", "1")];
        var a = await cluster.StartReplicaAsync(settings);
        var b = await cluster.StartReplicaAsync(settings);
        using var onA = a.CreateClient();

        var location = await SubmitAsync(onA, SlowJob());
        var id = JobIdOf(location);
        await WaitForAsync(onA, location, IsRunningMidway, Long);
        var holder = await cluster.OwnerOfAsync(id, a, b);
        Assert.NotNull(holder);
        var survivor = holder == a ? b : a;
        holder.Terminate();
        Assert.True(await holder.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the replica did not stop after SIGTERM");
        Assert.Equal(0, holder.ExitCode);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (await cluster.OwnerOfAsync(id, survivor) is null && await cluster.JobFieldAsync(id, "state") != "Succeeded")
        {
            Assert.True(DateTime.UtcNow < deadline, "the other replica never took the released job");
            await Task.Delay(50);
        }
        using var onSurvivor = survivor.CreateClient();
        var done = await WaitForAsync(onSurvivor, location, IsFinal, Long);
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.Equal("2", await cluster.JobFieldAsync(id, "attempt"));
        await cluster.AssertNothingPendingAsync();
    }

    /// <summary>Counts the Finished events the bus carries, per job, from now on.</summary>
    private static async Task<ConcurrentDictionary<string, int>> CountFinishedEventsAsync(ReplicaCluster cluster)
    {
        var counts = new ConcurrentDictionary<string, int>();
        var subscriber = await cluster.SubscriberAsync();
        await subscriber.SubscribeAsync(RedisChannel.Pattern($"{cluster.Prefix}:events:*"), (_, message) =>
        {
            using var json = JsonDocument.Parse(message.ToString());
            if (json.RootElement.GetProperty("kind").GetString() == "Finished")
                counts.AddOrUpdate(json.RootElement.GetProperty("jobId").GetString()!, 1, (_, n) => n + 1);
        });
        return counts;
    }

    /// <summary>The event types of a job's Server-Sent Events stream, read until the server ends it.</summary>
    private static async Task<List<string>> ReadEventsAsync(HttpClient client, string url)
    {
        using var cts = new CancellationTokenSource(Long);
        using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
        var events = new List<string>();
        while (await reader.ReadLineAsync(cts.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal)) events.Add(line["event: ".Length..]);
        }
        return events;
    }
}
