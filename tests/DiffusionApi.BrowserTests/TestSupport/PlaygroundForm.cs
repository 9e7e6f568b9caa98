namespace DiffusionApi.BrowserTests.TestSupport;

/// <summary>The playground's form as a user fills it: a small, fast request by default (64×64, 2 steps).</summary>
public static class PlaygroundForm
{
    /// <summary>Types the prompt, size and steps; a count, a locked seed and a negative prompt when given.</summary>
    public static async Task FillRequestAsync(this PageSession page, string prompt, int size = 64, int steps = 2, int? count = null, string? seed = null, string? negativePrompt = null)
    {
        await page.FillAsync("#prompt", prompt);
        if (negativePrompt is not null) await page.FillAsync("#negative-prompt", negativePrompt);
        await page.FillAsync("#width", size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.FillAsync("#height", size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.FillAsync("#steps", steps.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (count is { } n) await page.FillAsync("#count", n.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (seed is not null)
        {
            await page.SetCheckedAsync("#seed-random", false);
            await page.FillAsync("#seed", seed);
        }
    }

    /// <summary>Chooses the PNG as the init image in the file input (written to a temporary file) and waits for the mask editor.</summary>
    public static async Task UploadInitImageAsync(this PageSession page, byte[] png, int width)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("diffusion-init-").FullName, "init.png");
        await File.WriteAllBytesAsync(path, png);
        var input = await page.Page.QuerySelectorAsync("#init-image");
        await input.UploadFileAsync(path);
        await page.WaitUntilAsync($"!document.querySelector('#init-image-options').hidden && document.querySelector('#mask').width === {width}", "the mask editor");
    }

    /// <summary>Drags the mouse over the mask canvas between two points given as fractions of its shown size.</summary>
    public static async Task PaintStrokeAsync(this PageSession page, (decimal X, decimal Y) from, (decimal X, decimal Y) to)
    {
        var canvas = await page.Page.QuerySelectorAsync("#mask");
        await canvas.ScrollIntoViewAsync(); // the mouse acts in the viewport
        var box = await canvas.BoundingBoxAsync();
        await page.Page.Mouse.MoveAsync(box.X + (box.Width * from.X), box.Y + (box.Height * from.Y));
        await page.Page.Mouse.DownAsync();
        await page.Page.Mouse.MoveAsync(box.X + (box.Width * to.X), box.Y + (box.Height * to.Y), new PuppeteerSharp.Input.MoveOptions { Steps = 8 });
        await page.Page.Mouse.UpAsync();
        await page.WaitUntilAsync("document.querySelector('#mask-state').textContent.startsWith('Painted')", "the painted state");
    }

    /// <summary>Clicks Generate and waits until the gallery holds this many images, all decoded.</summary>
    public static async Task GenerateAsync(this PageSession page, int images = 1)
    {
        await page.Page.ClickAsync("#generate");
        await page.WaitForGalleryAsync(images);
    }

    public static Task WaitForGalleryAsync(this PageSession page, int images, TimeSpan? timeout = null) =>
        page.WaitUntilAsync(
            $"document.querySelectorAll('#gallery img').length === {images} && !document.querySelector('#gallery .pending') && [...document.querySelectorAll('#gallery img')].every(i => i.complete && i.naturalWidth > 0)",
            $"{images} image(s) in the gallery", timeout);
}
