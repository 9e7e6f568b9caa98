namespace DiffusionApi.Bench;

/// <summary>Throughput and latency percentiles of one measured run.</summary>
public sealed record RunResult(string Name, int Requests, TimeSpan Elapsed, double[] LatenciesMs)
{
    public double RequestsPerSecond => Requests / Elapsed.TotalSeconds;

    public double Percentile(double p)
    {
        var sorted = LatenciesMs.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}
