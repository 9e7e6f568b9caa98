namespace DiffusionApi.IntegrationTests.TestSupport;

/// <summary>Scrapes /metrics until a line shows up (the Prometheus exporter caches a scrape briefly; a loaded CI machine
/// with test classes in parallel can take several seconds to serve the first scrape).</summary>
public static class Metrics
{
    public static async Task WaitForAsync(HttpClient client, string expected)
    {
        var text = "";
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            text = await client.GetStringAsync("/metrics");
            if (text.Contains(expected, StringComparison.Ordinal)) return;
            await Task.Delay(100);
        }
        Assert.Fail($"/metrics never showed '{expected}':\n{text}");
    }
}
