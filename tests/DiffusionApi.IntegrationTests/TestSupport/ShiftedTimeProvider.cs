namespace DiffusionApi.IntegrationTests.TestSupport;

/// <summary>
/// The system clock, moved forward on request: for what is decided by wall-clock time (expiry), without waiting hours.
/// Timers and timestamps stay real, so everything else in the service runs as usual.
/// </summary>
public sealed class ShiftedTimeProvider : TimeProvider
{
    private long _offsetTicks;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
}
