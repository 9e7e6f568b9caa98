using DiffusionApi.IntegrationTests.Contracts;
using DiffusionApi.Jobs.InMemory;

namespace DiffusionApi.IntegrationTests.Jobs;

/// <summary>Makes the single-process backend for the contract suites: the same classes the service registers.</summary>
internal static class InMemoryJobBackend
{
    public static JobBackend Create(JobBackendSettings settings)
    {
        var store = new InMemoryJobStore(new JobRetention(settings.Retention, settings.SyncRetention), TimeProvider.System);
        return new JobBackend(new InMemoryJobQueue(store, settings.Capacity, settings.LeaseDuration, TimeProvider.System), store, new InMemoryProgressBus());
    }
}

public sealed class InMemoryJobQueueTests : JobQueueContract
{
    protected override JobBackend CreateBackend(JobBackendSettings settings) => InMemoryJobBackend.Create(settings);
}

public sealed class InMemoryJobStoreTests : JobStoreContract
{
    protected override JobBackend CreateBackend(JobBackendSettings settings) => InMemoryJobBackend.Create(settings);
}

public sealed class InMemoryProgressBusTests : ProgressBusContract
{
    protected override JobBackend CreateBackend(JobBackendSettings settings) => InMemoryJobBackend.Create(settings);
}
