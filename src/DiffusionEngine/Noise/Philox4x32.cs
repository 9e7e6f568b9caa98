using System.Runtime.CompilerServices;

namespace DiffusionEngine.Noise;

/// <summary>
/// The Philox4x32-10 counter-based generator (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3"), as CUDA's
/// curand and A1111's <c>modules/rng_philox.py</c> define it: ten rounds over a 128-bit counter with a 64-bit key that
/// is bumped by the Weyl constants after each of the first nine rounds.
/// </summary>
internal static class Philox4x32
{
    private const uint Multiplier0 = 0xD2511F53;
    private const uint Multiplier1 = 0xCD9E8D57;
    private const uint Weyl0 = 0x9E3779B9;
    private const uint Weyl1 = 0xBB67AE85;
    private const int Rounds = 10;

    /// <summary>Encrypts counter (c0, c1, c2, c3) under key (k0, k1); returns the four output words.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (uint X0, uint X1, uint X2, uint X3) Generate(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (var round = 0; round < Rounds; round++)
        {
            if (round > 0)
            {
                k0 += Weyl0;
                k1 += Weyl1;
            }

            var p0 = (ulong)Multiplier0 * c0;
            var p1 = (ulong)Multiplier1 * c2;
            var n0 = (uint)(p1 >> 32) ^ c1 ^ k0;
            var n1 = (uint)p1;
            var n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
            var n3 = (uint)p0;
            (c0, c1, c2, c3) = (n0, n1, n2, n3);
        }

        return (c0, c1, c2, c3);
    }
}
