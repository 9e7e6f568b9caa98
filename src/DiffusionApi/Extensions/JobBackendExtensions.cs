using DiffusionApi.Jobs;
using DiffusionApi.Jobs.InMemory;
using DiffusionApi.Options;
using DiffusionApi.Storage;
using Microsoft.Extensions.Options;

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
        // InMemory is the only backend so far: a shared one is a second branch here, keyed on ScaleoutOptions.Backend.
        services.AddSingleton(sp =>
        {
            var retention = TimeSpan.FromHours(sp.GetRequiredService<IOptions<StorageOptions>>().Value.RetentionHours);
            return new InMemoryJobStore(new JobRetention(retention, JobRetention.DefaultSync), sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton<IJobStore>(sp => sp.GetRequiredService<InMemoryJobStore>());
        services.AddSingleton<IJobQueue>(sp => new InMemoryJobQueue(
            sp.GetRequiredService<InMemoryJobStore>(),
            sp.GetRequiredService<IOptions<QueueOptions>>().Value.Capacity,
            TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<ScaleoutOptions>>().Value.LeaseSeconds),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IProgressBus, InMemoryProgressBus>();
        return services;
    }

    public static IServiceCollection AddImageStore(this IServiceCollection services)
    {
        // FileSystem is the only provider so far: an object store is a second branch here, keyed on StorageOptions.Provider.
        services.AddSingleton<IImageStore, FileSystemImageStore>();
        return services;
    }
}
