using DiffusionApi.Jobs;
using DiffusionApi.Options;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Storage;

/// <summary>
/// Removes what outlived <see cref="StorageOptions.RetentionHours"/>, once at start and then every
/// <see cref="StorageOptions.CleanupIntervalSeconds"/>: stored images older than that, and expired job records (the
/// store answers for expired jobs exactly at any time; the sweep frees their memory). With a shared store, one replica
/// sweeps per interval (<see cref="ISweepLock"/>); an unreachable store or lock is logged and tried again next time.
/// </summary>
public sealed partial class RetentionService(
    IImageStore images,
    IJobStore jobs,
    ISweepLock sweepLock,
    IOptions<StorageOptions> options,
    TimeProvider time,
    ILogger<RetentionService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retention = TimeSpan.FromHours(options.Value.RetentionHours);
        var interval = TimeSpan.FromSeconds(options.Value.CleanupIntervalSeconds);
        using var timer = new PeriodicTimer(interval, time);
        do
        {
            try
            {
                // Held a little less than the interval, so that the next tick of this or another replica gets it again.
                if (!await sweepLock.TryAcquireAsync(interval * 0.9, stoppingToken)) continue;
                await images.RemoveOlderThanAsync(time.GetUtcNow() - retention, stoppingToken);
                await jobs.SweepExpiredAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or StackExchange.Redis.RedisException or Amazon.Runtime.AmazonServiceException or HttpRequestException)
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

    [LoggerMessage(1, LogLevel.Warning, "Retention sweep failed")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
