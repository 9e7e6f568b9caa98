using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;
using DiffusionApi.Testing;
using StackExchange.Redis;

namespace DiffusionApi.IntegrationTests.Scaleout;

/// <summary>
/// Real service processes (the built DiffusionApi.dll on random 127.0.0.1 ports) sharing one redis-server and one moto S3
/// bucket under a key prefix of their own: what two pods behind one Service are. Replicas run the tiny model with one
/// ONNX Runtime thread and short leases. Disposal stops every process it started (and the Redis server when it owns one).
/// </summary>
public sealed class ReplicaCluster : IAsyncDisposable
{
    /// <summary>A lease this short lets a dead replica's job be reclaimed within seconds.</summary>
    public const int LeaseSeconds = 3;

    private readonly List<ServiceProcess> _started = [];
    private readonly bool _ownsRedis;
    private readonly string _bucket = "replicas-" + Guid.NewGuid().ToString("N")[..12];
    private ConnectionMultiplexer? _redisClient;

    private ReplicaCluster(RedisServer redis, MotoServer s3, bool ownsRedis)
    {
        Redis = redis;
        S3 = s3;
        _ownsRedis = ownsRedis;
    }

    public RedisServer Redis { get; }
    public MotoServer S3 { get; }
    public string Prefix { get; } = "replicas-" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>The shared Redis and S3 servers (or a Redis server of its own, for a test that restarts it).</summary>
    public static async Task<ReplicaCluster> StartAsync(bool ownRedis = false)
    {
        var redis = ownRedis ? await RedisServer.StartAsync() : await RedisServer.Shared;
        return new ReplicaCluster(redis, await MotoServer.Shared, ownRedis);
    }

    /// <summary>Starts one more replica and waits until it is ready; <paramref name="settings"/> override the defaults.</summary>
    public async Task<ServiceProcess> StartReplicaAsync(params (string Key, string Value)[] settings)
    {
        var all = S3.ServiceSettings(_bucket);
        all["Diffusion:Scaleout:Backend"] = "Redis";
        all["Diffusion:Scaleout:Redis"] = Redis.ConnectionString;
        all["Diffusion:Scaleout:KeyPrefix"] = Prefix;
        all["Diffusion:Scaleout:LeaseSeconds"] = LeaseSeconds.ToString(CultureInfo.InvariantCulture);
        all["Diffusion:Scaleout:PollIntervalMs"] = "200";
        all["Diffusion:Model:IntraOpThreads"] = "1";
        all["Diffusion:Batching:MaxBatchSize"] = "1";
        all["Diffusion:ShutdownTimeoutSeconds"] = "10";
        foreach (var (key, value) in settings) all[key] = value;
        var replica = await ServiceProcess.StartAsync(SharedTinyModel.Directory, all);
        lock (_started) _started.Add(replica);
        return replica;
    }

    public async Task<IDatabase> DatabaseAsync()
    {
        _redisClient ??= await Redis.ConnectAsync();
        return _redisClient.GetDatabase();
    }

    public async Task<ISubscriber> SubscriberAsync()
    {
        _redisClient ??= await Redis.ConnectAsync();
        return _redisClient.GetSubscriber();
    }

    /// <summary>The job's record field (<c>owner</c>, <c>attempt</c>, <c>state</c>) as Redis holds it.</summary>
    public async Task<string?> JobFieldAsync(string jobId, string field) => await (await DatabaseAsync()).HashGetAsync($"{Prefix}:job:{jobId}", field);

    /// <summary>Which of <paramref name="replicas"/> holds the job now (its worker id names its process), or null.</summary>
    public async Task<ServiceProcess?> OwnerOfAsync(string jobId, params ServiceProcess[] replicas)
    {
        var owner = await JobFieldAsync(jobId, "owner") ?? "";
        return replicas.FirstOrDefault(r => owner.Contains($"/{r.ProcessId}/", StringComparison.Ordinal));
    }

    /// <summary>
    /// Nothing left behind: no job waiting or leased, and no stream entry pending in any consumer group. Waits a while
    /// for it: a worker ends its lease just after the job's final state is written, which a client may see first.
    /// </summary>
    public async Task AssertNothingPendingAsync()
    {
        var db = await DatabaseAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var waiting = await db.SortedSetLengthAsync($"{Prefix}:waiting");
            var leased = await db.SetLengthAsync($"{Prefix}:leased");
            long pending = 0;
            foreach (var stream in await db.SetMembersAsync($"{Prefix}:streams"))
                pending += (await db.StreamPendingAsync(stream.ToString(), "workers")).PendingMessageCount;
            if (waiting == 0 && leased == 0 && pending == 0) return;
            if (DateTime.UtcNow > deadline) Assert.Fail($"left behind: {waiting} waiting, {leased} leased, {pending} pending stream entries");
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<ServiceProcess> started;
        lock (_started) started = [.. _started];
        foreach (var replica in started) await replica.DisposeAsync();
        if (_redisClient is not null) await _redisClient.DisposeAsync();
        if (_ownsRedis) await Redis.DisposeAsync();
    }

    /// <summary>An async job slow enough on the tiny model (many steps at 256², no sleeps) to be caught while it runs.</summary>
    public static object SlowJob(string prompt = "slow") => Requests.Small(prompt: prompt, size: "256x256", steps: 60);

    public static async Task<string> SubmitAsync(HttpClient client, object body, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null) request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        using var response = await client.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        return response.Headers.Location!.ToString();
    }

    public static string JobIdOf(string location) => location[(location.LastIndexOf('/') + 1)..];

    /// <summary>Polls until <paramref name="until"/> holds for the job's status (generous: a loaded 2-core machine).</summary>
    public static async Task<JsonElement> WaitForAsync(HttpClient client, string location, Func<JsonElement, bool> until, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            try
            {
                var job = await client.GetFromJsonAsync<JsonElement>(location);
                if (until(job)) return job;
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"{location} never reached the expected state: {job}");
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                // A replica restarting: ask again.
            }
            await Task.Delay(50);
        }
    }

    public static bool IsFinal(JsonElement job) => job.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled";

    public static bool IsRunningMidway(JsonElement job) =>
        job.GetProperty("status").GetString() == "running" && job.GetProperty("progress").GetProperty("step").GetInt32() >= 1;
}
