namespace DiffusionApi.IntegrationTests.TestSupport;

/// <summary>Scrapes /metrics until a line shows up (the Prometheus exporter caches a scrape briefly).</summary>
public static class Metrics
{
    public static async Task WaitForAsync(HttpClient client, string expected)
    {
        var text = "";
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            text = await client.GetStringAsync("/metrics");
            if (text.Contains(expected, StringComparison.Ordinal)) return;
            await Task.Delay(100);
        }
        Assert.Fail($"/metrics never showed '{expected}':\n{text}");
    }
}
