using Serilog.Core;
using Serilog.Events;

namespace DiffusionApi.IntegrationTests.TestSupport;

/// <summary>A Serilog sink that keeps every event; register it in the factory's services as an ILogEventSink.</summary>
public sealed class CollectingSink : ILogEventSink
{
    public List<LogEvent> Events { get; } = [];

    public void Emit(LogEvent logEvent)
    {
        lock (Events) Events.Add(logEvent);
    }

    /// <summary>Whether any rendered message so far contains <paramref name="text"/>.</summary>
    public bool Contains(string text)
    {
        lock (Events) return Events.Any(e => e.RenderMessage().Contains(text, StringComparison.Ordinal));
    }
}
