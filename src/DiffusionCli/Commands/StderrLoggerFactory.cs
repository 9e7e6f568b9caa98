using Microsoft.Extensions.Logging;

namespace DiffusionCli.Commands;

/// <summary>
/// Shows the engine's warnings and errors (e.g. "CUDA execution provider unavailable, running on CPU: …") on stderr,
/// one line each, so stdout stays clean for the command's own output. The CLI has no logging configuration beyond this.
/// </summary>
internal sealed class StderrLoggerFactory : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => StderrLogger.Instance;

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("the CLI logs warnings to stderr only");

    public void Dispose()
    {
    }

    private sealed class StderrLogger : ILogger
    {
        public static readonly StderrLogger Instance = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var label = logLevel == LogLevel.Warning ? "warning" : "error";
            Console.Error.WriteLine($"{label}: {formatter(state, exception)}");
        }
    }
}
