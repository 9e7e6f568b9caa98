using DiffusionApi.BrowserTests.TestSupport;

namespace DiffusionApi.BrowserTests;

/// <summary>The playground against a service with API keys: it learns that from /playground/config, without a key.</summary>
[Collection(BrowserCollection.Name)]
public sealed class PlaygroundApiKeyTests(BrowserFixture fixture)
{
    private Uri Home => fixture.Keyed.BaseAddress;

    [BrowserFact]
    public async Task WithKeysConfigured_ThePageAsksForTheKeyBeforeCallingTheApi()
    {
        await using var page = await fixture.OpenPageAsync(Home);
        await page.WaitUntilAsync("!document.querySelector('#api-key-field').hidden", "the API key field");

        Assert.Equal("Enter the API key to start.", await page.TextAsync("#job-status"));
        Assert.Equal("api-key", await page.EvaluateAsync<string>("document.activeElement.id"));
        Assert.DoesNotContain(page.Requests, r => r.Url.Contains("/v1/", StringComparison.Ordinal));
        Assert.Empty(page.ConsoleErrors); // no 401 was needed to find out
        Assert.Empty(await page.CspViolationsAsync());
    }

    [BrowserFact]
    public async Task AWrongKey_IsReportedNextToTheKeyField()
    {
        await using var page = await fixture.OpenPageAsync(Home);
        await page.WaitUntilAsync("!document.querySelector('#api-key-field').hidden", "the API key field");

        await page.FillAsync("#api-key", "not-the-key");
        await page.WaitUntilAsync("document.querySelector('#api-key-error').textContent !== ''", "the key error");

        Assert.Contains("API key", await page.TextAsync("#api-key-error"), StringComparison.Ordinal);
        Assert.Equal("true", await page.AttributeAsync("#api-key", "aria-invalid"));
    }

    [BrowserFact]
    public async Task TheKey_IsSentAsABearerToken_KeptForTheTab_AndLeftOutOfTheCurlCommand()
    {
        await using var page = await fixture.OpenPageAsync(Home);
        await page.WaitUntilAsync("!document.querySelector('#api-key-field').hidden", "the API key field");

        await page.FillAsync("#api-key", BrowserFixture.ApiKey);
        await page.WaitForDiscoveryAsync();
        await page.FillRequestAsync("behind a key");
        await page.GenerateAsync();

        var calls = page.Requests.Where(r => r.Url.Contains("/v1/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(calls);
        Assert.All(calls, r => Assert.Equal($"Bearer {BrowserFixture.ApiKey}", r.Headers["Authorization"]));
        Assert.Equal(BrowserFixture.ApiKey, await page.EvaluateAsync<string>("sessionStorage.getItem('diffusion.apiKey')"));
        var curl = await page.TextAsync("#curl");
        Assert.Contains("-H \"Authorization: Bearer $DIFFUSION_API_KEY\"", curl, StringComparison.Ordinal);
        Assert.DoesNotContain(BrowserFixture.ApiKey, curl, StringComparison.Ordinal);

        // A reload in the same tab keeps the key: the lists load without asking again.
        await page.Page.ReloadAsync();
        await page.WaitForDiscoveryAsync();
        Assert.Equal(BrowserFixture.ApiKey, await page.EvaluateAsync<string>("document.querySelector('#api-key').value"));
    }
}
