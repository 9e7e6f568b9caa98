using Microsoft.Extensions.Logging;

namespace DiffusionEngine.Runtime;

internal static partial class RuntimeLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Warning,
        Message = "CUDA execution provider unavailable, running on CPU: {Reason}")]
    public static partial void CudaUnavailableFallingBackToCpu(ILogger logger, string reason);
}
