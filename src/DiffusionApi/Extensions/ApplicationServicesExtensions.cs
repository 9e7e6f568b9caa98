using DiffusionApi.Engine;
using DiffusionApi.Jobs;
using DiffusionApi.Jobs.Worker;
using DiffusionApi.Options;
using DiffusionApi.Storage;
using DiffusionApi.Telemetry;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Extensions;

/// <summary>Options, the job backend, the worker, the engine loader and the image store.</summary>
public static class ApplicationServicesExtensions
{
    public static WebApplicationBuilder AddApplicationServices(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<DiffusionOptions>().BindConfiguration(DiffusionOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ModelOptions>().BindConfiguration(ModelOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ModelsOptions>().BindConfiguration(ModelsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IConfigureOptions<ModelsOptions>, ModelsOptionsBinding>();
        services.AddSingleton<IValidateOptions<ModelsOptions>, ModelsOptionsValidator>();
        services.AddOptions<QueueOptions>().BindConfiguration(QueueOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<BatchingOptions>().BindConfiguration(BatchingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PromptsOptions>().BindConfiguration(PromptsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ScaleoutOptions>().BindConfiguration(ScaleoutOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<NodeOptions>().BindConfiguration(NodeOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<NodeOptions>, NodeOptionsValidator>();

        // Queued and running jobs get Diffusion:ShutdownTimeoutSeconds to finish when the host stops.
        services.AddOptions<HostOptions>().Configure<IOptions<DiffusionOptions>>((host, diffusion) =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(diffusion.Value.ShutdownTimeoutSeconds));

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<DiffusionMetrics>();
        services.AddJobBackend();
        services.AddImageStore();
        services.AddSingleton<JobLifecycle>();
        services.AddSingleton<JobWatcher>();
        services.AddSingleton<JobService>();
        services.AddSingleton<DiffusionApi.Apis.Sdapi.SdapiCallerJobs>();
        services.AddSingleton<DiffusionApi.Apis.Sdapi.SdapiCheckpoint>();

        services.AddSingleton<ModelRegistry>();
        services.AddSingleton<IGenerationEngineLoader, PipelineEngineLoader>();
        services.AddSingleton<EngineStartup>();
        services.AddSingleton<HeldJobs>();
        services.AddSingleton<BatchRunner>();
        services.AddSingleton<JobFinisher>();
        services.AddHostedService<GenerationWorker>();
        services.AddHostedService<RetentionService>();
        return builder;
    }
}

/// <summary>Checks <see cref="NodeOptions"/> against the job backend it needs (an API-only node needs Redis).</summary>
internal sealed class NodeOptionsValidator(IOptions<ScaleoutOptions> scaleout) : IValidateOptions<NodeOptions>
{
    public ValidateOptionsResult Validate(string? name, NodeOptions options) =>
        options.Check(scaleout.Value) is { } error ? ValidateOptionsResult.Fail(error) : ValidateOptionsResult.Success;
}
