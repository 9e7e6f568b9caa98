using System.Text.Json;
using PuppeteerSharp;

namespace DiffusionApi.BrowserTests.TestSupport;

/// <summary>
/// One page in its own browser context, recording what a test asserts on: console errors (which include Chromium's
/// own reports of CSP violations and failed loads), uncaught exceptions, every request and every CSP violation event.
/// Waits poll with <c>Runtime.evaluate</c> rather than Puppeteer's waitForFunction, which compiles its predicate with
/// <c>new Function</c> inside the page and so would itself trip the playground's CSP.
/// </summary>
public sealed class PageSession : IAsyncDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly IBrowserContext _context;
    private readonly List<string> _consoleErrors = [];
    private readonly List<string> _pageErrors = [];
    private readonly List<IRequest> _requests = [];
    private ICDPSession? _browserSession;

    private PageSession(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
    }

    public IPage Page { get; }

    /// <summary>The answer to the navigation that opened the page.</summary>
    public IResponse Document { get; private set; } = null!;

    public IReadOnlyList<string> ConsoleErrors
    {
        get { lock (_consoleErrors) return [.. _consoleErrors]; }
    }

    public IReadOnlyList<string> PageErrors
    {
        get { lock (_pageErrors) return [.. _pageErrors]; }
    }

    public IReadOnlyList<IRequest> Requests
    {
        get { lock (_requests) return [.. _requests]; }
    }

    public static async Task<PageSession> OpenAsync(IBrowserContext context, Uri url, ViewPortOptions? viewport = null)
    {
        var page = await context.NewPageAsync();
        var session = new PageSession(context, page);
        page.Console += (_, e) =>
        {
            if (e.Message.Type == ConsoleType.Error) lock (session._consoleErrors) session._consoleErrors.Add($"{e.Message.Text} ({e.Message.Location?.URL})");
        };
        page.PageError += (_, e) =>
        {
            lock (session._pageErrors) session._pageErrors.Add(e.Message);
        };
        page.Request += (_, e) =>
        {
            lock (session._requests) session._requests.Add(e.Request);
        };
        if (viewport is not null) await page.SetViewportAsync(viewport);
        // Installed before any page script runs; not subject to the page's CSP.
        await page.EvaluateExpressionOnNewDocumentAsync(
            "window.__cspViolations = []; document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));");
        session.Document = await page.GoToAsync(url.ToString(), WaitUntilNavigation.Load);
        return session;
    }

    /// <summary>CSP violations the page reported (securitypolicyviolation events).</summary>
    public async Task<string[]> CspViolationsAsync() => await Page.EvaluateExpressionAsync<string[]>("window.__cspViolations");

    public Task<T> EvaluateAsync<T>(string expression) => Page.EvaluateExpressionAsync<T>(expression);

    public Task<string> TextAsync(string selector) =>
        Page.EvaluateFunctionAsync<string>("s => document.querySelector(s)?.textContent ?? ''", selector);

    public Task<string?> AttributeAsync(string selector, string name) =>
        Page.EvaluateFunctionAsync<string?>("(s, n) => document.querySelector(s)?.getAttribute(n) ?? null", selector, name);

    /// <summary>Replaces an input's value as a user would (select all, type), then leaves the field so 'change' fires.</summary>
    public async Task FillAsync(string selector, string value)
    {
        await Page.EvaluateFunctionAsync("s => { const e = document.querySelector(s); e.focus(); e.select(); }", selector);
        await Page.Keyboard.PressAsync("Backspace");
        if (value.Length > 0) await Page.Keyboard.TypeAsync(value);
        await Page.EvaluateFunctionAsync("s => document.querySelector(s).dispatchEvent(new Event('change', { bubbles: true }))", selector);
    }

    public async Task SetCheckedAsync(string selector, bool value)
    {
        if (await Page.EvaluateFunctionAsync<bool>("s => document.querySelector(s).checked", selector) != value) await Page.ClickAsync(selector);
    }

    /// <summary>Waits until the JavaScript expression is truthy; the failure names what was awaited and the page's status line.</summary>
    public async Task WaitUntilAsync(string expression, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            if (await Page.EvaluateExpressionAsync<bool>($"!!({expression})")) return;
            if (DateTime.UtcNow > deadline)
            {
                var status = await TextAsync("#job-status");
                throw new TimeoutException($"timed out waiting for {what}; #job-status says '{status}'; console errors: {string.Join(" | ", ConsoleErrors)}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Grants or denies this page's origin the clipboard over CDP (Puppeteer's ClipboardReadWrite override alone denies
    /// the sanitized write that <c>navigator.clipboard.writeText</c> needs). The override lasts while the CDP session
    /// that set it is attached, which is until this page is disposed.
    /// </summary>
    public async Task SetClipboardAccessAsync(IBrowser browser, bool allowed)
    {
        var origin = new Uri(Page.Url).GetLeftPart(UriPartial.Authority);
        _browserSession ??= await browser.CreateCDPSessionAsync();
        if (allowed)
            await _browserSession.SendAsync("Browser.grantPermissions", new { origin, browserContextId = _context.Id, permissions = new[] { "clipboardReadWrite", "clipboardSanitizedWrite" } });
        else
            await _browserSession.SendAsync("Browser.setPermission", new { origin, browserContextId = _context.Id, permission = new { name = "clipboard-write" }, setting = "denied" });
    }

    /// <summary>Waits until a request the page made that matches has been answered.</summary>
    public async Task WaitForResponseAsync(Func<IRequest, bool> match, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (!Requests.Any(r => match(r) && r.Response is not null))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits until the page has loaded its model and scheduler lists.</summary>
    public Task WaitForDiscoveryAsync() =>
        WaitUntilAsync("document.querySelectorAll('#scheduler option').length > 0 && document.querySelectorAll('#model option').length > 0", "the model and scheduler lists");

    public async Task<JsonElement> EvaluateJsonAsync(string function, params object[] args) =>
        await Page.EvaluateFunctionAsync<JsonElement>(function, args);

    public async ValueTask DisposeAsync()
    {
        await Page.CloseAsync();
        await _context.CloseAsync();
        if (_browserSession is not null) await _browserSession.DetachAsync();
    }
}
