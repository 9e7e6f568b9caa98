using System.Text.Json;
using DiffusionApi.BrowserTests.TestSupport;

namespace DiffusionApi.BrowserTests;

/// <summary>
/// CORS as a browser enforces it: a page served by another web server (another port on 127.0.0.1, so another origin)
/// calls the API with fetch. The API (with an API key) allows one of the two origins.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class CorsBrowserTests(BrowserFixture fixture)
{
    private const string Call = """
        async (api, key, path, body) => {
          try {
            const response = await fetch(api + path, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json', 'Authorization': 'Bearer ' + key },
              body,
            });
            const bytes = (await response.arrayBuffer()).byteLength;
            return { ok: true, status: response.status, seed: response.headers.get('X-Seed'), jobId: response.headers.get('X-Job-Id'),
                     location: response.headers.get('Location'), bytes };
          } catch (error) {
            return { ok: false, error: String(error) };
          }
        }
        """;

    private const string Body = """{"prompt":"from another origin","size":"64x64","steps":2,"seed":42}""";

    private string Api => OriginServer.OriginOf(fixture.Keyed.BaseAddress);

    [BrowserFact]
    public async Task APageOnAnAllowedOrigin_CallsTheApiWithABearerKey_AndReadsTheExposedHeaders()
    {
        await using var page = await fixture.OpenPageAsync(fixture.Origins.AllowedOrigin);

        var generate = await page.EvaluateJsonAsync(Call, Api, BrowserFixture.ApiKey, "/v1/generate", Body);
        var job = await page.EvaluateJsonAsync(Call, Api, BrowserFixture.ApiKey, "/v1/jobs", Body);

        Assert.True(generate.GetProperty("ok").GetBoolean(), generate.ToString());
        Assert.Equal(200, generate.GetProperty("status").GetInt32());
        Assert.Equal("42", generate.GetProperty("seed").GetString());
        Assert.StartsWith("job_", generate.GetProperty("jobId").GetString(), StringComparison.Ordinal);
        Assert.True(generate.GetProperty("bytes").GetInt32() > 100);
        Assert.Equal(202, job.GetProperty("status").GetInt32());
        Assert.StartsWith("/v1/jobs/job_", job.GetProperty("location").GetString(), StringComparison.Ordinal);
        Assert.Empty(page.ConsoleErrors);
    }

    [BrowserFact]
    public async Task APageOnAnotherOrigin_IsBlockedByTheBrowser()
    {
        await using var page = await fixture.OpenPageAsync(fixture.Origins.OtherOrigin);

        var result = await page.EvaluateJsonAsync(Call, Api, BrowserFixture.ApiKey, "/v1/generate", Body);

        Assert.False(result.GetProperty("ok").GetBoolean(), result.ToString());
        Assert.Equal("TypeError: Failed to fetch", result.GetProperty("error").GetString());
        Assert.Contains(page.ConsoleErrors, e => e.Contains("blocked by CORS policy", StringComparison.Ordinal));
    }
}
