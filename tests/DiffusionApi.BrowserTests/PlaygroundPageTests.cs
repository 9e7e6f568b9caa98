using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.BrowserTests.TestSupport;
using PuppeteerSharp;
using PuppeteerSharp.Input;

namespace DiffusionApi.BrowserTests;

/// <summary>The playground at / in headless chromium, against the real service without API keys.</summary>
[Collection(BrowserCollection.Name)]
public sealed class PlaygroundPageTests(BrowserFixture fixture)
{
    private Uri Home => fixture.Open.BaseAddress;

    [BrowserFact]
    public async Task Page_LoadsWithNoConsoleErrorsOrCspViolations_AndFillsItsListsFromTheService()
    {
        await using var page = await fixture.OpenPageAsync(Home);
        await page.WaitForDiscoveryAsync();

        var policy = page.Document.Headers["content-security-policy"];
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
        Assert.Equal("tiny-sd", await page.EvaluateAsync<string>("document.querySelector('#model').value"));
        Assert.Equal("pndm", await page.EvaluateAsync<string>("document.querySelector('#scheduler').value"));
        // The model's defaults (GET /v1/models: the tiny model's native 256², 20 steps, 7.5) fill the form.
        Assert.Equal(["256", "256", "20", "7.5"], await page.EvaluateAsync<string[]>("['#width', '#height', '#steps', '#guidance'].map(s => document.querySelector(s).value)"));
        Assert.True(await page.EvaluateAsync<int>("document.querySelectorAll('#scheduler option').length") >= 10);
        Assert.Contains("tiny-sd", await page.TextAsync("#service-info"), StringComparison.Ordinal);
        Assert.True(await page.EvaluateAsync<bool>("document.querySelector('#api-key-field').hidden"), "no keys are configured, yet the key field shows");
        Assert.Equal("Ready.", await page.TextAsync("#job-status"));
        Assert.Empty(page.ConsoleErrors);
        Assert.Empty(page.PageErrors);
        Assert.Empty(await page.CspViolationsAsync());
        // Nothing is loaded from another host.
        Assert.All(page.Requests, request => Assert.True(
            request.Url.StartsWith(Home.GetLeftPart(UriPartial.Authority) + "/", StringComparison.Ordinal) || request.Url.StartsWith("data:", StringComparison.Ordinal),
            $"the page requested {request.Url}"));
    }

    [BrowserFact]
    public async Task Generate_ShowsEachImageInTheGalleryWithItsSeedAndInfotext_ProgressReaches100_AndCurlIsTheExactRequest()
    {
        await using var page = await fixture.OpenPageAsync(Home);
        await page.WaitForDiscoveryAsync();
        await page.FillRequestAsync("a red fox in the snow", steps: 4, count: 2, seed: "1234");

        await page.GenerateAsync(images: 2);

        Assert.Equal(["1234", "1235"], await page.EvaluateAsync<string[]>("[...document.querySelectorAll('#gallery img')].map(i => i.dataset.seed)"));
        Assert.Equal(64, await page.EvaluateAsync<int>("document.querySelector('#gallery img').naturalWidth"));
        var caption = await page.TextAsync("#gallery li:first-child figcaption");
        Assert.Contains("Seed 1234", caption, StringComparison.Ordinal);
        var infotext = await page.TextAsync("#gallery li:first-child .infotext");
        Assert.StartsWith("a red fox in the snow\n", infotext, StringComparison.Ordinal);
        Assert.Contains("Seed: 1234", infotext, StringComparison.Ordinal);
        Assert.Contains("Model: tiny-sd", infotext, StringComparison.Ordinal);
        Assert.StartsWith("blob:", await page.AttributeAsync("#gallery li:first-child a[download]", "href"), StringComparison.Ordinal);
        Assert.Equal("diffusion-1234.png", await page.AttributeAsync("#gallery li:first-child a[download]", "download"));
        Assert.Equal("100", await page.AttributeAsync("#progress", "aria-valuenow"));
        Assert.Equal("progressbar", await page.AttributeAsync("#progress", "role"));
        Assert.StartsWith("Done: 2 image(s)", await page.TextAsync("#job-status"), StringComparison.Ordinal);

        // "Copy as curl" holds the body the page actually sent, byte for byte.
        var submitted = Assert.Single(page.Requests, r => r.Method == HttpMethod.Post && r.Url.EndsWith("/v1/jobs", StringComparison.Ordinal));
        var curl = await page.TextAsync("#curl");
        Assert.Contains($"curl -sS -X POST '{Home.GetLeftPart(UriPartial.Authority)}/v1/jobs'", curl, StringComparison.Ordinal);
        Assert.Contains($"--data-raw '{submitted.PostData}'", curl, StringComparison.Ordinal);
        Assert.Contains("\"seed\":1234", submitted.PostData?.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Authorization", curl, StringComparison.Ordinal);

        // "Use this seed" locks the second image's seed into the form.
        await page.Page.ClickAsync("#gallery li:nth-child(2) button.use-seed");
        Assert.Equal("1235", await page.EvaluateAsync<string>("document.querySelector('#seed').value"));
        Assert.False(await page.EvaluateAsync<bool>("document.querySelector('#seed-random').checked"));
        Assert.Empty(page.ConsoleErrors);
        Assert.Empty(await page.CspViolationsAsync());
    }

    [BrowserFact]
    public async Task CopyAsCurl_PutsTheShownCommandOnTheClipboard()
    {
        await using var page = await fixture.OpenPageAsync(Home);
        await page.SetClipboardAccessAsync(fixture.Browser, allowed: true);
        await page.WaitForDiscoveryAsync();
        await page.FillRequestAsync("copied as curl");
        await page.GenerateAsync();

        await page.Page.ClickAsync("#copy-curl");
        await page.WaitUntilAsync("document.querySelector('#copy-status').textContent !== ''", "the copy status");

        Assert.Equal("Copied.", await page.TextAsync("#copy-status"));
        Assert.Equal(await page.TextAsync("#curl"), await page.EvaluateAsync<string>("navigator.clipboard.readText()"));
    }

    [BrowserFact]
    public async Task CopyAsCurl_WithoutClipboardAccess_SelectsTheCommandForCtrlC()
    {
        await using var page = await fixture.OpenPageAsync(Home);
        await page.SetClipboardAccessAsync(fixture.Browser, allowed: false);
        await page.WaitForDiscoveryAsync();
        Assert.True(await page.EvaluateAsync<bool>("document.querySelector('#copy-curl').disabled"), "nothing to copy before a request");
        await page.FillAsync("#steps", "0"); // a 400 still shows the request that was made
        await page.FillAsync("#prompt", "rejected");
        await page.Page.ClickAsync("#generate");
        await page.WaitUntilAsync("document.querySelector('#steps-error').textContent !== ''", "the steps error");

        await page.Page.ClickAsync("#copy-curl");
        await page.WaitUntilAsync("document.querySelector('#copy-status').textContent !== ''", "the copy status");

        Assert.Equal("Selected: press Ctrl+C to copy.", await page.TextAsync("#copy-status"));
        Assert.Equal(await page.TextAsync("#curl"), await page.EvaluateAsync<string>("getSelection().toString()"));
        Assert.Contains("\"steps\":0", await page.TextAsync("#curl"), StringComparison.Ordinal);
    }

    [BrowserFact]
    public async Task LockedSeedAboveTwoToThe53_IsSentAndShownExactly()
    {
        const string seed = "18446744073709551610"; // a JavaScript number would round it to 18446744073709551616
        await using var page = await fixture.OpenPageAsync(Home);
        await page.WaitForDiscoveryAsync();
        await page.FillRequestAsync("exact seeds", seed: seed);

        await page.GenerateAsync();

        Assert.Equal(seed, await page.EvaluateAsync<string>("document.querySelector('#gallery img').dataset.seed"));
        Assert.Contains($"Seed: {seed}", await page.TextAsync("#gallery .infotext"), StringComparison.Ordinal);
    }

    [BrowserFact]
    public async Task RandomSeed_IsShownAfterwards_SoUntickingRandomLocksIt()
    {
        await using var page = await fixture.OpenPageAsync(Home);
        await page.WaitForDiscoveryAsync();
        await page.FillRequestAsync("random seed");

        await page.GenerateAsync();

        var shown = await page.EvaluateAsync<string>("document.querySelector('#gallery img').dataset.seed");
        Assert.Matches("^[0-9]+$", shown);
        Assert.Equal(shown, await page.EvaluateAsync<string>("document.querySelector('#seed').value"));
        Assert.DoesNotContain("\"seed\":", await page.TextAsync("#curl"), StringComparison.Ordinal);
    }

    [BrowserFact]
    public async Task BadRequest_ShowsEachProblemDetailNextToTheFieldItNames()
    {
        await using var page = await fixture.OpenPageAsync(Home);
        await page.WaitForDiscoveryAsync();
        await page.FillAsync("#prompt", "too many steps");
        await page.FillAsync("#width", "63");
        await page.FillAsync("#steps", "500");

        await page.Page.ClickAsync("#generate");
        await page.WaitUntilAsync("document.querySelector('#steps-error').textContent !== ''", "the steps error");

        Assert.Equal("steps must be between 1 and 150 but was 500", await page.TextAsync("#steps-error"));
        Assert.Contains("width must be a multiple of 8 but was 63", await page.TextAsync("#size-error"), StringComparison.Ordinal);
        Assert.Equal("true", await page.AttributeAsync("#steps", "aria-invalid"));
        Assert.Equal("true", await page.AttributeAsync("#width", "aria-invalid"));
        Assert.Equal("", await page.TextAsync("#prompt-error"));
        Assert.Equal("The request is invalid", await page.TextAsync("#job-status"));
        // The first field the service named has the focus, and its error is part of its description.
        Assert.Equal("width", await page.EvaluateAsync<string>("document.activeElement.id"));
        Assert.Contains("size-error", await page.AttributeAsync("#width", "aria-describedby"), StringComparison.Ordinal);
        Assert.False(await page.EvaluateAsync<bool>("document.querySelector('#generate').disabled"));

        // Correcting the fields clears the errors on the next attempt.
        await page.FillAsync("#width", "64");
        await page.FillAsync("#height", "64");
        await page.FillAsync("#steps", "2");
        await page.GenerateAsync();
        Assert.Equal("", await page.TextAsync("#steps-error"));
        Assert.Equal("false", await page.AttributeAsync("#steps", "aria-invalid"));
    }

    [BrowserFact]
    public async Task Cancel_WhileQueued_StopsTheJobBeforeItRuns()
    {
        using var client = fixture.Open.CreateClient();
        var filler = await StartSlowJobAsync(client);
        try
        {
            await using var page = await fixture.OpenPageAsync(Home);
            await page.WaitForDiscoveryAsync();
            await page.FillRequestAsync("waits behind the filler");

            await page.Page.ClickAsync("#generate");
            await page.WaitUntilAsync("document.querySelector('#job-status').textContent.startsWith('Queued: position 1')", "the queue position");
            Assert.Equal("0", await page.AttributeAsync("#progress", "aria-valuenow"));
            var jobId = await page.AttributeAsync("#job-status", "data-job-id");

            await page.Page.ClickAsync("#cancel");
            // The page's DELETE is answered before the worker is freed: the job must never reach the engine.
            await page.WaitForResponseAsync(r => r.Method == HttpMethod.Delete && r.Url.EndsWith(jobId!, StringComparison.Ordinal), "the page's DELETE");
            await client.DeleteAsync($"/v1/jobs/{filler}"); // frees the worker, which then drops the cancelled job
            await page.WaitUntilAsync("document.querySelector('#job-status').textContent === 'Cancelled.'", "the cancelled state");

            Assert.Equal("cancelled", await StatusOfAsync(client, jobId!));
            Assert.Equal(0, await page.EvaluateAsync<int>("document.querySelectorAll('#gallery img').length"));
            Assert.False(await page.EvaluateAsync<bool>("document.querySelector('#generate').disabled"));
            Assert.True(await page.EvaluateAsync<bool>("document.querySelector('#cancel').disabled"));
        }
        finally
        {
            await client.DeleteAsync($"/v1/jobs/{filler}");
        }
    }

    [BrowserFact]
    public async Task Cancel_WhileRunning_StopsTheJob_AndEscapeDoesTheSame()
    {
        using var client = fixture.Open.CreateClient();
        await using var page = await fixture.OpenPageAsync(Home);
        await page.WaitForDiscoveryAsync();
        await page.FillRequestAsync("a long one", size: 512, steps: 150);

        await page.Page.ClickAsync("#generate");
        await page.WaitUntilAsync("Number(document.querySelector('#progress').getAttribute('aria-valuenow')) > 0", "running progress", TimeSpan.FromSeconds(60));
        Assert.Contains("ETA", await page.TextAsync("#progress-text"), StringComparison.Ordinal);
        // The running job holds the first gallery slot.
        await page.WaitUntilAsync("document.querySelector('#gallery li.pending figcaption')?.textContent.startsWith('Step ')", "the job's gallery slot");
        Assert.Equal("true", await page.AttributeAsync("#gallery li:first-child", "aria-busy"));
        var jobId = await page.AttributeAsync("#job-status", "data-job-id");

        await page.Page.Keyboard.PressAsync("Escape");
        await page.WaitUntilAsync("document.querySelector('#job-status').textContent === 'Cancelled.'", "the cancelled state");
        Assert.Equal(0, await page.EvaluateAsync<int>("document.querySelectorAll('#gallery li').length"));

        Assert.Equal("cancelled", await StatusOfAsync(client, jobId!));
        Assert.Equal(0, await page.EvaluateAsync<int>("document.querySelectorAll('#gallery img').length"));
    }

    [BrowserFact]
    public async Task Keyboard_TabReachesTheControlsInOrder_AndCtrlEnterInThePromptGenerates()
    {
        await using var page = await fixture.OpenPageAsync(Home);
        await page.WaitForDiscoveryAsync();

        var order = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            await page.Page.Keyboard.PressAsync("Tab");
            order.Add(await page.EvaluateAsync<string>("document.activeElement.id || document.activeElement.tagName"));
        }
        string[] expected = ["prompt", "negative-prompt", "width", "height", "steps", "guidance", "count", "rng", "seed-random", "scheduler", "model", "generate"];
        Assert.Equal(expected, order.Where(expected.Contains).Distinct().ToArray());

        await page.FillRequestAsync("typed from the keyboard");
        await page.Page.FocusAsync("#prompt");
        await page.Page.Keyboard.DownAsync("Control");
        await page.Page.Keyboard.PressAsync("Enter");
        await page.Page.Keyboard.UpAsync("Control");
        await page.WaitForGalleryAsync(1);
    }

    [BrowserFact]
    public async Task EveryControl_HasALabel()
    {
        await using var page = await fixture.OpenPageAsync(Home);
        await page.WaitForDiscoveryAsync();

        var unlabelled = await page.EvaluateAsync<string[]>(
            "[...document.querySelectorAll('input, select, textarea')].filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => e.id)");
        var nameless = await page.EvaluateAsync<string[]>(
            "[...document.querySelectorAll('button')].filter(b => b.textContent.trim() === '').map(b => b.id)");

        Assert.Empty(unlabelled);
        Assert.Empty(nameless);
    }

    [BrowserFact]
    public async Task AtPhoneWidth_ThePageFitsWithoutSidewaysScrolling()
    {
        await using var page = await fixture.OpenPageAsync(Home, new ViewPortOptions { Width = 360, Height = 740, IsMobile = true, HasTouch = true, DeviceScaleFactor = 2 });
        await page.WaitForDiscoveryAsync();
        await page.UploadInitImageAsync(TestImages.Gradient(512, 512), 512); // the mask editor and its tools too

        Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= 360, "the page is wider than the phone");
        var tooWide = await page.EvaluateAsync<string[]>(
            "[...document.querySelectorAll('input, select, textarea, button, canvas')].filter(e => e.getBoundingClientRect().right > 360).map(e => e.id)");
        Assert.Empty(tooWide);
    }

    [BrowserFact]
    public async Task Colours_FollowTheSystemLightOrDarkPreference()
    {
        await using var page = await fixture.OpenPageAsync(Home);
        await page.WaitForDiscoveryAsync();
        const string background = "getComputedStyle(document.body).backgroundColor";

        await page.Page.EmulateMediaFeaturesAsync([new MediaFeatureValue { MediaFeature = MediaFeature.PrefersColorScheme, Value = "light" }]);
        var light = await page.EvaluateAsync<string>(background);
        await page.Page.EmulateMediaFeaturesAsync([new MediaFeatureValue { MediaFeature = MediaFeature.PrefersColorScheme, Value = "dark" }]);
        var dark = await page.EvaluateAsync<string>(background);

        Assert.Equal("rgb(247, 247, 248)", light);
        Assert.Equal("rgb(18, 19, 22)", dark);
    }

    [BrowserFact]
    public async Task Screenshot_AfterOneGeneration_IsSavedAsATestArtifact()
    {
        await using var page = await fixture.OpenPageAsync(Home, new ViewPortOptions { Width = 1280, Height = 860 });
        await page.WaitForDiscoveryAsync();
        await page.FillRequestAsync("a lighthouse on a cliff at dusk, watercolor", size: 128, steps: 12, count: 4, seed: "20240607", negativePrompt: "blurry");
        // An init image with a painted mask, so the picture shows the inpainting controls at work.
        await page.UploadInitImageAsync(TestImages.Gradient(128, 128), 128);
        await page.PaintStrokeAsync((0.2m, 0.25m), (0.8m, 0.7m));

        await page.GenerateAsync(images: 4);

        var path = Path.Combine(Artifacts.Directory, "playground.png");
        await page.Page.ScreenshotAsync(path, new ScreenshotOptions { FullPage = true });
        var bytes = await File.ReadAllBytesAsync(path);
        Assert.True(bytes.Length > 10_000 && bytes.AsSpan(1, 3).SequenceEqual("PNG"u8), $"{path} is not a screenshot");
        // DIFFUSION_UPDATE_SCREENSHOT=1 refreshes the copy the README shows.
        if (Environment.GetEnvironmentVariable("DIFFUSION_UPDATE_SCREENSHOT") == "1")
            File.Copy(path, Path.Combine(Artifacts.RepositoryRoot, "docs", "playground.png"), overwrite: true);
    }

    /// <summary>Queues a job that keeps the single worker busy for seconds and waits until it runs; answers its id.</summary>
    private static async Task<string> StartSlowJobAsync(HttpClient client)
    {
        var response = await client.PostAsJsonAsync("/v1/jobs", new { prompt = "keeps the worker busy", size = "512x512", steps = 150 });
        response.EnsureSuccessStatusCode();
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await StatusOfAsync(client, id) != "running")
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the slow job never started");
            await Task.Delay(20);
        }
        return id;
    }

    private static async Task<string> StatusOfAsync(HttpClient client, string id) =>
        (await client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}")).GetProperty("status").GetString()!;
}
