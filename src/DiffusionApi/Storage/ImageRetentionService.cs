using DiffusionApi.Options;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Storage;

/// <summary>Removes stored images older than <see cref="StorageOptions.RetentionHours"/>, once at start and then periodically.</summary>
public sealed partial class ImageRetentionService(
    IImageStore store,
    IOptions<StorageOptions> options,
    TimeProvider time,
    ILogger<ImageRetentionService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retention = TimeSpan.FromHours(options.Value.RetentionHours);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.CleanupIntervalSeconds), time);
        do
        {
            try
            {
                store.RemoveOlderThan(time.GetUtcNow() - retention);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogSweepFailed(logger, ex);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken token)
    {
        try
        {
            return await timer.WaitForNextTickAsync(token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Image retention sweep failed")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
