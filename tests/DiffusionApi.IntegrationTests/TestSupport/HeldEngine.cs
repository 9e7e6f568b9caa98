using DiffusionApi.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionApi.IntegrationTests.TestSupport;

/// <summary>Queue tests' common start: the engine held on one running job, so that every job after it waits.</summary>
public static class HeldEngine
{
    /// <summary>
    /// Holds the engine, sends a synchronous job ("running") and waits until the engine has it; returns that request,
    /// which completes once the test calls <see cref="EngineProbe.Release"/>.
    /// </summary>
    public static async Task<Task<HttpResponseMessage>> HoldOnARunningJobAsync(this DiffusionApiFactory factory, HttpClient client, TimeSpan timeout)
    {
        factory.Probe.Hold();
        var running = client.PostGenerateAsync(Requests.Small(prompt: "running"));
        await factory.Probe.WaitForHeldCallAsync(timeout);
        return running;
    }

    /// <summary>
    /// Sends each request once the one before it is counted in the queue, so that queue order is the order given (the
    /// engine must be held). Returns the requests, which complete once the engine is released.
    /// </summary>
    public static async Task<List<Task<HttpResponseMessage>>> QueueInOrderAsync(this DiffusionApiFactory factory, HttpClient client, IEnumerable<object> bodies)
    {
        var queue = factory.Services.GetRequiredService<IJobQueue>();
        var pending = new List<Task<HttpResponseMessage>>();
        foreach (var body in bodies)
        {
            pending.Add(client.PostGenerateAsync(body));
            while (queue.Stats.Depth < pending.Count) await Task.Delay(5);
        }
        return pending;
    }
}
