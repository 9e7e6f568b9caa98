using DiffusionApi.Jobs;
using DiffusionApi.Jobs.InMemory;
using DiffusionApi.Jobs.Redis;
using DiffusionApi.Options;
using DiffusionApi.Storage;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace DiffusionApi.Extensions;

/// <summary>
/// The backends behind the service's seams, chosen by configuration: <c>Diffusion:Scaleout:Backend</c> for the job
/// queue, job store and progress bus, <c>Diffusion:Storage:Provider</c> for the image store. Endpoints and the worker
/// depend only on the interfaces. Each setting is validated on start (<see cref="ScaleoutOptions"/>,
/// <see cref="StorageOptions"/>), so an unknown value stops the service before anything here is resolved.
/// </summary>
public static class JobBackendExtensions
{
    public static IServiceCollection AddJobBackend(this IServiceCollection services)
    {
        // Chosen when first resolved, from the validated options (so every configuration source counts).
        services.AddSingleton(sp =>
        {
            var retention = TimeSpan.FromHours(sp.GetRequiredService<IOptions<StorageOptions>>().Value.RetentionHours);
            return new InMemoryJobStore(new JobRetention(retention, JobRetention.DefaultSync), sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton<IJobStore>(sp => IsRedis(sp)
            ? new RedisJobStore(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<RedisJobSettings>())
            : sp.GetRequiredService<InMemoryJobStore>());
        services.AddSingleton<IJobQueue>(sp => IsRedis(sp)
            ? RedisJobQueue.CreateAsync(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<RedisJobSettings>(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<RedisJobQueue>()).GetAwaiter().GetResult()
            : new InMemoryJobQueue(
                sp.GetRequiredService<InMemoryJobStore>(),
                sp.GetRequiredService<IOptions<QueueOptions>>().Value.Capacity,
                TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<ScaleoutOptions>>().Value.LeaseSeconds),
                sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IProgressBus>(sp => IsRedis(sp)
            ? new RedisProgressBus(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<RedisJobSettings>())
            : new InMemoryProgressBus());

        // One connection per process (the client multiplexes); it does not fail when Redis is down at start, and
        // reconnects by itself: until then every call throws and the endpoints answer 503 (RedisUnavailableHandler).
        services.AddSingleton<IConnectionMultiplexer>(sp =>
        {
            var options = ConfigurationOptions.Parse(sp.GetRequiredService<IOptions<ScaleoutOptions>>().Value.Redis);
            options.AbortOnConnectFail = false;
            options.ClientName ??= $"diffusion-{Environment.MachineName}-{Environment.ProcessId}";
            return ConnectionMultiplexer.Connect(options);
        });
        services.AddSingleton(sp =>
        {
            var scaleout = sp.GetRequiredService<IOptions<ScaleoutOptions>>().Value;
            var queue = sp.GetRequiredService<IOptions<QueueOptions>>().Value;
            var retention = TimeSpan.FromHours(sp.GetRequiredService<IOptions<StorageOptions>>().Value.RetentionHours);
            return new RedisJobSettings(
                scaleout.KeyPrefix,
                scaleout.MaxQueueLength > 0 ? scaleout.MaxQueueLength : queue.Capacity,
                TimeSpan.FromSeconds(scaleout.LeaseSeconds),
                scaleout.MaxAttempts,
                TimeSpan.FromMilliseconds(scaleout.PollIntervalMs),
                new JobRetention(retention, JobRetention.DefaultSync));
        });
        return services;
    }

    private static bool IsRedis(IServiceProvider services) => services.GetRequiredService<IOptions<ScaleoutOptions>>().Value.IsRedis;

    public static IServiceCollection AddImageStore(this IServiceCollection services)
    {
        // FileSystem is the only provider so far: an object store is a second branch here, keyed on StorageOptions.Provider.
        services.AddSingleton<IImageStore, FileSystemImageStore>();
        return services;
    }
}
