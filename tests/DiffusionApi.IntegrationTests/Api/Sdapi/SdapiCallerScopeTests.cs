using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Api.Sdapi;

/// <summary>
/// API keys, and progress / interrupt / skip scoped to the caller's own jobs: with two keys, one caller's interrupt
/// never stops the other's job.
/// </summary>
public sealed class SdapiCallerScopeTests : IAsyncLifetime
{
    private readonly DiffusionApiFactory _factory = new(new Dictionary<string, string?>
    {
        ["Diffusion:ApiKeys:0"] = "alice-key",
        ["Diffusion:ApiKeys:1"] = "bob-key",
    });

    public async Task InitializeAsync() => await _factory.CreateReadyClientAsync();

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    private HttpClient ClientFor(string key)
    {
        var client = _factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    [Fact]
    public async Task WithoutAKey_Sdapi_Is401()
    {
        var response = await _factory.CreateClient().PostTxt2ImgAsync(SdapiBodies.Txt2Img());

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Interrupt_StopsOnlyTheCallersOwnJob_AndProgressReportsOnlyTheCallersJob()
    {
        var alice = ClientFor("alice-key");
        var bob = ClientFor("bob-key");
        _factory.Probe.Hold();
        var aliceJob = alice.PostTxt2ImgAsync(SdapiBodies.Txt2Img(seed: 1));
        await _factory.Probe.WaitForHeldCallAsync(TimeSpan.FromSeconds(60));

        var aliceProgress = await alice.GetFromJsonAsync<JsonElement>("/sdapi/v1/progress?skip_current_image=true");
        var bobProgress = await bob.GetFromJsonAsync<JsonElement>("/sdapi/v1/progress");
        Assert.Equal(1, aliceProgress.GetProperty("state").GetProperty("job_count").GetInt32());
        Assert.Equal(0, bobProgress.GetProperty("state").GetProperty("job_count").GetInt32());

        Assert.Equal(HttpStatusCode.OK, (await bob.PostAsync("/sdapi/v1/interrupt", null)).StatusCode);
        await Task.Delay(300);
        Assert.False(aliceJob.IsCompleted); // bob's interrupt left alice's job alone

        Assert.Equal(HttpStatusCode.OK, (await alice.PostAsync("/sdapi/v1/interrupt", null)).StatusCode);
        _factory.Probe.Release();
        var response = await aliceJob.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(0, answer.GetProperty("images").GetArrayLength()); // interrupted: A1111 answers with what it has

        // Afterwards alice's next job runs normally.
        var next = await alice.PostTxt2ImgAsync(SdapiBodies.Txt2Img(seed: 2));
        Assert.Equal(1, (await next.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("images").GetArrayLength());
    }
}
