using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DiffusionApi.BrowserTests.TestSupport;

/// <summary>
/// A second web server on 127.0.0.1, listening on two random ports, so that a browser page can be loaded from origins
/// other than the API's: one the API allows (CORS) and one it does not. Each serves one empty HTML page at <c>/</c>.
/// </summary>
public sealed class OriginServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OriginServer(WebApplication app, Uri allowed, Uri other)
    {
        _app = app;
        AllowedOrigin = allowed;
        OtherOrigin = other;
    }

    /// <summary>The origin the API under test lists in Diffusion:Cors:AllowedOrigins.</summary>
    public Uri AllowedOrigin { get; }

    /// <summary>An origin the API does not list.</summary>
    public Uri OtherOrigin { get; }

    public static async Task<OriginServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        app.MapGet("/", () => Results.Content("<!doctype html><html lang=\"en\"><link rel=\"icon\" href=\"data:,\"><title>another origin</title><p>frontend</p></html>", "text/html; charset=utf-8"));
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a)).ToArray();
        return new OriginServer(app, addresses[0], addresses[1]);
    }

    /// <summary>The origin string a browser sends (<c>http://127.0.0.1:PORT</c>, no trailing slash).</summary>
    public static string OriginOf(Uri uri) => uri.GetLeftPart(UriPartial.Authority);

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
