using DiffusionEngine.Noise;

namespace DiffusionEngine.Tests.Schedulers;

/// <summary>
/// A small test-only seeded N(0, 1) stream (SplitMix64 + Box–Muller): enough to prove "same seed ⇒ same result"
/// for the stochastic schedulers. The PyTorch-compatible generator is the noise helper's, not this.
/// </summary>
internal sealed class SeededTestNoise(ulong seed) : INoiseSource
{
    private ulong _state = seed;

    public void Fill(Span<float> destination)
    {
        for (var i = 0; i < destination.Length; i++)
        {
            var u1 = (NextUInt64() >> 11) * (1.0 / (1UL << 53));
            var u2 = (NextUInt64() >> 11) * (1.0 / (1UL << 53));
            destination[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - u1)) * Math.Cos(2 * Math.PI * u2));
        }
    }

    private ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>A noise source of zeros: stochastic schedulers then follow their deterministic formula.</summary>
internal sealed class ZeroTestNoise : INoiseSource
{
    public int Calls { get; private set; }

    public void Fill(Span<float> destination)
    {
        Calls++;
        destination.Clear();
    }
}
