using System.Runtime.CompilerServices;
namespace DiffusionEngine.Noise;

/// <summary>
/// The 32-bit Mersenne Twister exactly as PyTorch's CPU generator (<c>at::mt19937</c>) runs it: standard MT19937
/// (N = 624, M = 397), initialised from a 32-bit seed with the reference <c>init_genrand</c> recurrence, state
/// regenerated in place when all 624 words are used, standard tempering on output.
/// </summary>
/// <remarks>Not thread-safe: one instance belongs to one stream.</remarks>
internal sealed class Mt19937
{
    private const int N = 624;
    private const int M = 397;
    private const uint MatrixA = 0x9908B0DF;
    private const uint UpperMask = 0x80000000;
    private const uint LowerMask = 0x7FFFFFFF;

    private readonly uint[] _state = new uint[N];
    private int _next;

    /// <summary>Seeds the engine; torch keeps only the low 32 bits of its 64-bit seed, so callers pass those.</summary>
    public Mt19937(uint seed)
    {
        _state[0] = seed;
        for (uint j = 1; j < N; j++)
        {
            var previous = _state[j - 1];
            _state[j] = 1812433253u * (previous ^ (previous >> 30)) + j;
        }

        // The first draw regenerates the whole state, as torch's "left = 1" bookkeeping does.
        _next = N;
    }

    /// <summary>The next tempered 32-bit output.</summary>
    public uint NextUInt32()
    {
        if (_next >= N) Twist();
        return Temper(_state[_next++]);
    }

    /// <summary>Fills <paramref name="destination"/> with the next outputs, in order (same as repeated <see cref="NextUInt32"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Fill(Span<uint> destination)
    {
        var written = 0;
        while (written < destination.Length)
        {
            if (_next >= N) Twist();
            var count = Math.Min(N - _next, destination.Length - written);
            var source = _state.AsSpan(_next, count);
            var target = destination.Slice(written, count);
            for (var i = 0; i < count; i++) target[i] = Temper(source[i]);
            _next += count;
            written += count;
        }
    }

    private static uint Temper(uint y)
    {
        y ^= y >> 11;
        y ^= (y << 7) & 0x9D2C5680;
        y ^= (y << 15) & 0xEFC60000;
        y ^= y >> 18;
        return y;
    }

    // In-place regeneration, sequential over i: words before i are already the new ones (as in the reference code).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Twist()
    {
        var s = _state;
        int i;
        for (i = 0; i < N - M; i++)
        {
            var y = (s[i] & UpperMask) | (s[i + 1] & LowerMask);
            s[i] = s[i + M] ^ (y >> 1) ^ ((y & 1) * MatrixA);
        }

        for (; i < N - 1; i++)
        {
            var y = (s[i] & UpperMask) | (s[i + 1] & LowerMask);
            s[i] = s[i + M - N] ^ (y >> 1) ^ ((y & 1) * MatrixA);
        }

        var last = (s[N - 1] & UpperMask) | (s[0] & LowerMask);
        s[N - 1] = s[M - 1] ^ (last >> 1) ^ ((last & 1) * MatrixA);
        _next = 0;
    }
}
