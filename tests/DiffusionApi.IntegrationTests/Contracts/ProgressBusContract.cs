using System.Threading.Channels;
using DiffusionApi.Jobs;

namespace DiffusionApi.IntegrationTests.Contracts;

/// <summary>The <see cref="IProgressBus"/> contract: per-job subscriptions, delivery in publish order, unsubscribe.</summary>
public abstract class ProgressBusContract : JobBackendContract
{
    [SkippableFact]
    public async Task ASubscriber_GetsTheEventsPublishedAfterItSubscribed_InOrder()
    {
        var bus = CreateBackend().Bus;
        await using var subscription = await bus.SubscribeAsync("job_a");

        JobEvent[] published = [new("job_a", JobEventKind.Started), new("job_a", JobEventKind.Progress, 1, 2), new("job_a", JobEventKind.Progress, 2, 2), new("job_a", JobEventKind.Finished)];
        foreach (var jobEvent in published) await bus.PublishAsync(jobEvent);

        Assert.Equal(published, await ReadAsync(subscription.Events, published.Length));
    }

    [SkippableFact]
    public async Task ASubscriber_GetsOnlyItsOwnJobsEvents()
    {
        var bus = CreateBackend().Bus;
        await using var subscription = await bus.SubscribeAsync("job_a");

        await bus.PublishAsync(new JobEvent("job_b", JobEventKind.CancelRequested));
        await bus.PublishAsync(new JobEvent("job_a", JobEventKind.Finished));

        Assert.Equal([new JobEvent("job_a", JobEventKind.Finished)], await ReadAsync(subscription.Events, 1));
    }

    [SkippableFact]
    public async Task EverySubscriberOfAJob_GetsEachEvent()
    {
        var bus = CreateBackend().Bus;
        await using var first = await bus.SubscribeAsync("job_a");
        await using var second = await bus.SubscribeAsync("job_a");

        await bus.PublishAsync(new JobEvent("job_a", JobEventKind.CancelRequested));

        Assert.Equal([new JobEvent("job_a", JobEventKind.CancelRequested)], await ReadAsync(first.Events, 1));
        Assert.Equal([new JobEvent("job_a", JobEventKind.CancelRequested)], await ReadAsync(second.Events, 1));
    }

    [SkippableFact]
    public async Task Unsubscribing_CompletesTheSubscription_AndPublishingToNobodyIsFine()
    {
        var bus = CreateBackend().Bus;
        var subscription = await bus.SubscribeAsync("job_a");

        await subscription.DisposeAsync();
        await bus.PublishAsync(new JobEvent("job_a", JobEventKind.Finished));

        using var timeout = new CancellationTokenSource(Patience);
        Assert.False(await subscription.Events.WaitToReadAsync(timeout.Token));
    }

    [SkippableFact]
    public async Task JobEvents_RoundTripThroughTheWireForm()
    {
        var jobEvent = new JobEvent("job_a", JobEventKind.Progress, 3, 20);

        Assert.Equal(jobEvent, JobJson.Deserialize<JobEvent>(JobJson.Serialize(jobEvent)));
        Assert.Contains("\"kind\":\"Progress\"", JobJson.Serialize(jobEvent), StringComparison.Ordinal);
    }

    private static async Task<JobEvent[]> ReadAsync(ChannelReader<JobEvent> events, int count)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var read = new List<JobEvent>();
        while (read.Count < count) read.Add(await events.ReadAsync(timeout.Token));
        return [.. read];
    }
}
