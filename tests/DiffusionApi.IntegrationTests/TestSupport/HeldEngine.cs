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
}
