using System.Diagnostics;

namespace DiffusionEngine.Runtime;

/// <summary>
/// Accumulates the wall time spent inside ONNX Runtime <c>Run</c> calls, so callers can tell engine overhead
/// (everything outside ORT) from model time. Thread-safe: concurrent runs add atomically.
/// </summary>
public sealed class OrtRunTimer
{
    private long _ticks;
    private long _calls;

    /// <summary>Total time inside Run calls since creation or the last <see cref="Reset"/>.</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticks));

    /// <summary>Number of Run calls since creation or the last <see cref="Reset"/>.</summary>
    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Sets both counters back to zero.</summary>
    public void Reset()
    {
        Interlocked.Exchange(ref _ticks, 0);
        Interlocked.Exchange(ref _calls, 0);
    }

    internal void Add(long startTimestamp, long endTimestamp)
    {
        Interlocked.Add(ref _ticks, endTimestamp - startTimestamp);
        Interlocked.Increment(ref _calls);
    }
}
