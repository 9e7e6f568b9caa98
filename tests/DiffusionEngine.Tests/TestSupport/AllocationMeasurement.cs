namespace DiffusionEngine.Tests.TestSupport;

/// <summary>
/// Managed allocation counts for "allocates nothing" tests. GC.GetAllocatedBytesForCurrentThread can jump by one
/// allocation quantum (about 8 KiB) when a collection triggered by another thread (a parallel test class) resets this
/// thread's allocation context mid-measurement. A real per-step allocation shows up in every window, so the tests
/// take the fewest bytes over a few windows.
/// </summary>
public static class AllocationMeasurement
{
    /// <summary>Runs <paramref name="measure"/> up to <paramref name="attempts"/> times and returns the smallest result (stops at 0).</summary>
    public static long Fewest(Func<long> measure, int attempts = 3)
    {
        var fewest = long.MaxValue;
        for (var i = 0; i < attempts && fewest > 0; i++) fewest = Math.Min(fewest, measure());
        return fewest;
    }
}
