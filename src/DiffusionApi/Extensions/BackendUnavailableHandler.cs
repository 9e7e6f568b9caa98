using DiffusionApi.Apis;
using Microsoft.AspNetCore.Diagnostics;
using StackExchange.Redis;

namespace DiffusionApi.Extensions;

/// <summary>
/// A shared backend that cannot be reached (Redis down, restarting, or too slow to answer) is a 503 with Retry-After,
/// never a 500: the request did nothing (every write is one atomic script, so nothing half-written is left), and the
/// same request succeeds once the backend is back. The client reconnects by itself; nothing here needs resetting.
/// </summary>
public sealed partial class BackendUnavailableHandler(ILogger<BackendUnavailableHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsBackendUnavailable(exception)) return false;
        LogUnavailable(logger, httpContext.Request.Path, exception.Message);
        await ProblemResults.Unavailable(httpContext, "the job backend (Redis) is unreachable; retry shortly").ExecuteAsync(httpContext);
        return true;
    }

    /// <summary>Whether <paramref name="exception"/> says the backend could not be reached (not that a request was wrong).</summary>
    public static bool IsBackendUnavailable(Exception exception) =>
        exception is RedisConnectionException or RedisTimeoutException || exception.InnerException is RedisConnectionException or RedisTimeoutException;

    [LoggerMessage(1, LogLevel.Warning, "{Path}: the job backend is unreachable ({Reason}); answered 503")]
    private static partial void LogUnavailable(ILogger logger, string path, string reason);
}
