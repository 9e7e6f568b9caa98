using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionApi.Testing;

namespace DiffusionApi.IntegrationTests.Hosting;

/// <summary>
/// The default text console log of the real process on its first start (built-in model, fresh data directory), as a
/// person or a line-based collector reads it.
/// </summary>
public sealed partial class TextLogTests(TextLogTests.Fixture fixture) : IClassFixture<TextLogTests.Fixture>
{
    // A forged line, a terminal colour change and a bidirectional override, as a client could smuggle them in.
    private const string Forgery = "eve\r\n[00:00:00.000 ERR] forged line\u001b[31m\u202e";

    public sealed class Fixture : IAsyncLifetime
    {
        public ServiceProcess Service { get; private set; } = null!;
        public async Task InitializeAsync() => Service = await ServiceProcess.StartAsync(modelDirectory: "");
        public async Task DisposeAsync() => await Service.DisposeAsync();
    }

    [GeneratedRegex(@"^\[\d\d:\d\d:\d\d\.\d\d\d (VRB|DBG|INF|WRN|ERR|FTL)\] ")]
    private static partial Regex LinePrefix();

    private async Task<string[]> LinesAsync(Func<string, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var lines = fixture.Service.Output.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
            if (lines.Any(until) || DateTime.UtcNow > deadline) return lines;
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task FirstStart_SaysItIsWritingTheBuiltInTinyModel_AndWhere()
    {
        var folder = Path.Combine(fixture.Service.DataDirectory, "models", "tiny-sd");

        var lines = await LinesAsync(l => l.Contains("writing the built-in tiny model", StringComparison.Ordinal));

        Assert.Contains(lines, l => l.Contains("INF] First start: writing the built-in tiny model to " + folder, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ClientText_IsEscaped_SoItCannotForgeLinesOrColours()
    {
        using var client = fixture.Service.CreateClient();
        var body = (Dictionary<string, object?>)Requests.Small();
        body["user"] = Forgery;
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/v1/generate", body)).StatusCode);
        var unknownField = new StringContent("{\"prompt\":\"fox\",\"x\\r\\n[00:00:00.000 ERR] forged line\\u001b[31m\":1}", Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/v1/images/generations", unknownField)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/images/%0D%0A%5B00:00:00.000%20ERR%5D%20forged%20line%1B%5B31m")).StatusCode);

        var lines = await LinesAsync(l => l.Contains("responded 404", StringComparison.Ordinal));

        Assert.DoesNotContain(lines, l => l.StartsWith("[00:00:00.000 ERR]", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains('\u001b') || l.Contains('\u202e'));
        const string escaped = @"\r\n[00:00:00.000 ERR] forged line\u001b[31m";
        Assert.Contains(lines, l => l.Contains("queued", StringComparison.Ordinal) && l.Contains(@"user eve" + escaped + @"\u202e", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("responded 400", StringComparison.Ordinal) && l.Contains("x" + escaped, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("responded 404", StringComparison.Ordinal) && l.Contains("/v1/images/" + escaped, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ClientError_IsOneWarningLineNamingStatusAndReason_WithoutAStackTrace()
    {
        using var client = fixture.Service.CreateClient();
        var bad = new StringContent("{\"prompt\":\"fox\",\"cfg_scale\":7}", Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/v1/images/generations", bad)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/v1/images/generations", new StringContent("{\"prompt\":", Encoding.UTF8, "application/json"))).StatusCode);

        var lines = await LinesAsync(l => l.Contains("not valid JSON", StringComparison.Ordinal));

        Assert.Contains(lines, l => l.Contains("WRN] HTTP POST /v1/images/generations responded 400 (The request is invalid: cfg_scale: unknown field; use guidance_scale)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("WRN] HTTP POST /v1/images/generations responded 400 (The request is invalid: The request body is not valid JSON", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("ERR]", StringComparison.Ordinal) || l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TextLines_AreTheMessageAlone_WithoutATrailingPropertyBlob()
    {
        using var client = fixture.Service.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.PostGenerateAsync(Requests.Small())).StatusCode);

        var lines = await LinesAsync(l => l.Contains("responded 200", StringComparison.Ordinal));

        var ours = lines.Where(l => LinePrefix().IsMatch(l)).ToArray();
        Assert.Contains(ours, l => l.Contains("responded 200 (OK) in ", StringComparison.Ordinal));
        Assert.DoesNotContain(ours, l => l.Contains("\"SourceContext\"", StringComparison.Ordinal) || l.Contains("\"EventId\"", StringComparison.Ordinal) || l.EndsWith('}'));
    }
}
