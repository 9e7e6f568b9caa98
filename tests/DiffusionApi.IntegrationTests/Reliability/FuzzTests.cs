using System.Net.Http.Headers;
using DiffusionApi.IntegrationTests.TestSupport;
using Xunit.Abstractions;

namespace DiffusionApi.IntegrationTests.Reliability;

/// <summary>
/// The reliability suite's fuzz check: 1,200 malformed requests from <see cref="FuzzCorpus"/> against the real service
/// on the tiny model. None may be answered 5xx, and every refusal is RFC 9457 problem+json.
/// </summary>
[Trait("Suite", "Reliability")]
public sealed class FuzzTests(ITestOutputHelper output)
{
    public const int Cases = 1_200;

    [Fact]
    public async Task MalformedRequests_AreNeverAnswered5xx_AndEveryRefusalIsAProblem()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?>
        {
            ["Diffusion:Queue:Capacity"] = "1024",
            ["Diffusion:Batching:MaxBatchSize"] = "8",
            ["Diffusion:Batching:MaxDelayMs"] = "0",
        });
        var client = await factory.CreateReadyClientAsync();
        var corpus = FuzzCorpus.Generate(Cases);
        var statuses = new int[corpus.Count];
        var notProblems = new List<string>();

        // Four at a time: enough to overlap, few enough for a loaded 2-core machine.
        await Parallel.ForEachAsync(corpus, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (fuzz, cancellationToken) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, fuzz.Path) { Content = new ByteArrayContent(fuzz.Body) };
            if (fuzz.ContentType is not null) request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(fuzz.ContentType);
            foreach (var (name, value) in fuzz.Headers)
            {
                if (!request.Headers.TryAddWithoutValidation(name, value)) request.Content.Headers.TryAddWithoutValidation(name, value);
            }
            using var response = await client.SendAsync(request, cancellationToken);
            statuses[fuzz.Number] = (int)response.StatusCode;
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            // The A1111 surface answers its field errors FastAPI-shaped (JSON), as its clients expect; the body checks
            // shared by every endpoint (413, 415) are problem+json there too.
            var sdapiJson = fuzz.Path.StartsWith("/sdapi", StringComparison.Ordinal) && mediaType == "application/json";
            if (response.StatusCode >= System.Net.HttpStatusCode.BadRequest && mediaType != "application/problem+json" && !sdapiJson)
            {
                lock (notProblems) notProblems.Add($"{fuzz}: {(int)response.StatusCode} {mediaType}");
            }
        });

        var serverErrors = corpus.Where(c => statuses[c.Number] >= 500).Select(c => $"{c}: {statuses[c.Number]}").ToList();
        output.WriteLine($"fuzz cases: {corpus.Count}; 5xx: {serverErrors.Count}; by status: " +
            string.Join(", ", statuses.GroupBy(s => s).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}")));
        output.WriteLine("by kind: " + string.Join(", ", corpus.GroupBy(c => c.Kind).Select(g => $"{g.Key} {g.Count()}")));
        Assert.Empty(serverErrors);
        Assert.Empty(notProblems);
    }

    [Fact]
    public void TheCorpus_IsDeterministic_AndLargeEnough()
    {
        var first = FuzzCorpus.Generate(Cases);
        var second = FuzzCorpus.Generate(Cases);

        Assert.True(first.Count >= 1_000);
        Assert.True(first.Zip(second).All(p => p.First.Path == p.Second.Path && p.First.Body.AsSpan().SequenceEqual(p.Second.Body)));
        Assert.True(first.Select(c => c.Kind).Distinct().Count() >= 10);
    }
}
