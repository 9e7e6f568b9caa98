using System.Text.Json;
using DiffusionApi.BrowserTests.TestSupport;
using DiffusionEngine.Imaging;

namespace DiffusionApi.BrowserTests;

/// <summary>Live previews (POST /v1/jobs with preview: true) in the running job's gallery slot, against the real service.</summary>
[Collection(BrowserCollection.Name)]
public sealed class PlaygroundPreviewTests(BrowserFixture fixture)
{
    [BrowserFact]
    public async Task LivePreviews_ShowInTheJobsGallerySlot_UntilTheFinishedImageTakesItsPlace()
    {
        await using var page = await fixture.OpenPageAsync(fixture.Open.BaseAddress);
        await page.WaitForDiscoveryAsync();
        Assert.True(await page.EvaluateAsync<bool>("document.querySelector('#live-preview').checked"), "live previews are off by default");
        await page.FillRequestAsync("watch it form", size: 256, steps: 150, seed: "99");
        // Every preview the slot shows, recorded as it is set (polling could miss one on a fast run).
        await page.EvaluateAsync<bool>("""
            (window.__previews = [],
             new MutationObserver(records => {
               for (const r of records)
                 if (r.target.classList?.contains('live-preview') && r.target.closest('#gallery li.pending'))
                   window.__previews.push({ src: r.target.src, step: Number(r.target.dataset.step) });
             }).observe(document.querySelector('#gallery'), { subtree: true, attributes: true, attributeFilter: ['src'] }), true)
            """);

        await page.Page.ClickAsync("#generate");
        await page.WaitForGalleryAsync(1, TimeSpan.FromSeconds(180));

        var submitted = Assert.Single(page.Requests, r => r.Method == HttpMethod.Post && r.Url.EndsWith("/v1/jobs", StringComparison.Ordinal));
        Assert.Contains("\"preview\":true", submitted.PostData?.ToString(), StringComparison.Ordinal);
        Assert.Contains("\"preview\":true", await page.TextAsync("#curl"), StringComparison.Ordinal);
        var previews = await page.EvaluateJsonAsync("() => window.__previews");
        Assert.True(previews.GetArrayLength() > 0, "no live preview was shown while the job ran");
        foreach (var preview in previews.EnumerateArray())
        {
            var src = preview.GetProperty("src").GetString()!;
            Assert.StartsWith("data:image/png;base64,", src, StringComparison.Ordinal);
            var image = ImageDecoder.Decode(Convert.FromBase64String(src["data:image/png;base64,".Length..]));
            Assert.Equal((32, 32), (image.Width, image.Height)); // an eighth of 256×256
            Assert.InRange(preview.GetProperty("step").GetInt32(), 1, 151);
        }
        // The finished image took the slot's place.
        Assert.Equal(0, await page.EvaluateAsync<int>("document.querySelectorAll('#gallery .pending, #gallery .live-preview').length"));
        Assert.Equal(256, await page.EvaluateAsync<int>("document.querySelector('#gallery li:first-child img').naturalWidth"));
        Assert.Empty(page.ConsoleErrors);
        Assert.Empty(await page.CspViolationsAsync());
    }

    [BrowserFact]
    public async Task WithLivePreviewsOff_TheRequestAsksForNone()
    {
        await using var page = await fixture.OpenPageAsync(fixture.Open.BaseAddress);
        await page.WaitForDiscoveryAsync();
        await page.FillRequestAsync("no previews");
        await page.SetCheckedAsync("#live-preview", false);

        await page.GenerateAsync();

        var submitted = Assert.Single(page.Requests, r => r.Method == HttpMethod.Post && r.Url.EndsWith("/v1/jobs", StringComparison.Ordinal));
        Assert.DoesNotContain("\"preview\":", submitted.PostData?.ToString(), StringComparison.Ordinal);
    }
}
