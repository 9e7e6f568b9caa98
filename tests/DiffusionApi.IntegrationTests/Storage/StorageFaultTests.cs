using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionApi.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionApi.IntegrationTests.Storage;

/// <summary>What a client sees when the image store fails under a running service, and what stays on disk.</summary>
[Trait("Suite", "Reliability")]
public sealed class StorageFaultTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AFailingWrite_Answers500Problem_WithoutServerPaths()
    {
        await using var factory = new DiffusionApiFactory();
        var client = await factory.CreateReadyClientAsync();
        // A real fault: the image folder disappears under the running service, so the write fails naming its path.
        Directory.Delete(Path.Combine(factory.DataDirectory, "images"), recursive: true);

        var response = await client.PostGenerationsAsync(Requests.Small(responseFormat: "b64_json"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var problem = await response.ReadProblemAsync();
        var body = problem.GetRawText();
        Assert.Contains("storing image 1 of 1 failed", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(factory.DataDirectory, body, StringComparison.Ordinal);
        Assert.DoesNotContain(Path.GetTempPath().TrimEnd('/'), body, StringComparison.Ordinal);
        Assert.DoesNotContain(".tmp", body, StringComparison.Ordinal);

        // The async job's error says the same, and the service goes on once the folder is back.
        var job = (await client.PostAsJsonAsync("/v1/jobs", Requests.Small())).Headers.Location!.ToString();
        var failed = await WaitForFinalAsync(client, job);
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.DoesNotContain(factory.DataDirectory, failed.GetRawText(), StringComparison.Ordinal);
        Directory.CreateDirectory(Path.Combine(factory.DataDirectory, "images"));
        Assert.Equal(HttpStatusCode.OK, (await client.PostGenerationsAsync(Requests.Small(responseFormat: "b64_json"))).StatusCode);
    }

    [Theory]
    [InlineData("/v1/images/generations")]
    [InlineData("/v1/jobs")]
    public async Task ARequestForTwoImages_WhoseSecondWriteFails_LeavesNoFileBehind(string endpoint)
    {
        FailingImageStore? failing = null;
        await using var factory = new DiffusionApiFactory(services: s => s.AddSingleton<IImageStore>(sp =>
            failing = new FailingImageStore(ActivatorUtilities.CreateInstance<FileSystemImageStore>(sp), failingPut: 2)));
        var client = await factory.CreateReadyClientAsync();
        var folder = Path.Combine(factory.DataDirectory, "images");

        var response = await client.PostAsJsonAsync(endpoint, endpoint == "/v1/jobs" ? Requests.Small(n: 2) : Requests.Small(n: 2, responseFormat: "url"));

        if (endpoint == "/v1/jobs")
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var failed = await WaitForFinalAsync(client, response.Headers.Location!.ToString());
            Assert.Equal("failed", failed.GetProperty("status").GetString());
        }
        else
        {
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            var detail = (await response.ReadProblemAsync()).GetProperty("detail").GetString();
            Assert.Contains("storing image 2 of 2 failed", detail, StringComparison.Ordinal);
            Assert.DoesNotContain("/srv/", detail, StringComparison.Ordinal);
        }
        Assert.Equal(2, failing!.Puts);
        Assert.Empty(Directory.GetFiles(folder));
    }

    private static async Task<JsonElement> WaitForFinalAsync(HttpClient client, string location)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var job = await client.GetFromJsonAsync<JsonElement>(location);
            if (job.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled") return job;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the job did not finish: {job}");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// The real folder store whose n-th put fails as a full disk does (which a test cannot cause for real): the put
    /// before it has written its file, which the service must remove again.
    /// </summary>
    private sealed class FailingImageStore(IImageStore inner, int failingPut) : IImageStore
    {
        private int _puts;

        public int Puts => Volatile.Read(ref _puts);

        public Task<string> PutAsync(string jobId, ReadOnlyMemory<byte> content, string contentType, string? owner = null, CancellationToken cancellationToken = default) =>
            Interlocked.Increment(ref _puts) == failingPut
                ? throw new IOException("No space left on device : '/srv/diffusion/images/.0123456789abcdef0123456789abcdef.tmp'")
                : inner.PutAsync(jobId, content, contentType, owner, cancellationToken);

        public Task<StoredImage?> OpenAsync(string id, CancellationToken cancellationToken = default) => inner.OpenAsync(id, cancellationToken);

        public ValueTask<Uri?> GetDirectUrlAsync(string id, CancellationToken cancellationToken = default) => inner.GetDirectUrlAsync(id, cancellationToken);

        public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) => inner.DeleteAsync(id, cancellationToken);

        public Task<int> RemoveOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default) => inner.RemoveOlderThanAsync(cutoff, cancellationToken);
    }
}
