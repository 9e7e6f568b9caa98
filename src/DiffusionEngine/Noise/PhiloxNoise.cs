using System.Runtime.CompilerServices;

namespace DiffusionEngine.Noise;

/// <summary>
/// Standard normal noise equal to A1111's "NV" source (<c>modules/rng_philox.py</c>), its CPU imitation of CUDA's
/// <c>torch.randn</c> and the noise A1111 users know as "RNG source: GPU" (also stable-diffusion.cpp's default
/// <c>--rng cuda</c>, to within float rounding).
/// </summary>
/// <remarks>
/// <para>Element i of the k-th <see cref="Fill"/> call (k = 0, 1, …) comes from one Philox4x32-10 block with counter
/// (k, 0, i, 0) and key (seed low 32 bits, seed high 32 bits): the whole 64-bit seed matters. Of its outputs (x, y, ·, ·)
/// the value is the first Box–Muller output, sqrt(-2 ln u)·sin v with u = x·2^-32 + 2^-33 and v = y·c + c/2
/// (c = float(2^-32·2π)), computed in double precision as numpy does and rounded to float once.</para>
/// <para>Element i depends only on i and the call number, so every prefix of a larger draw is the same. A call holds at
/// most 2^32 elements. Not thread-safe: one instance belongs to one image of one generation.</para>
/// </remarks>
public sealed class PhiloxNoise : INoiseSource
{
    // rng_philox.py's float32 constants widened to double: float(2.3283064e-10) is exactly 2^-32; the angle scale is the
    // double product 2.3283064e-10 * 6.2831855 rounded to float (bits 0x30C90FDB).
    internal const double TwoPow32Inv = (double)2.3283064e-10f;
    internal const double TwoPow32InvTwoPi = (double)(float)(2.3283064e-10 * 6.2831855);

    private readonly uint _keyLow;
    private readonly uint _keyHigh;
    private uint _offset;

    /// <summary>Creates the stream of a fresh generator (offset 0) for <paramref name="seed"/>.</summary>
    public PhiloxNoise(ulong seed)
    {
        _keyLow = unchecked((uint)seed);
        _keyHigh = (uint)(seed >> 32);
    }

    /// <inheritdoc />
    /// <remarks>Writes into <paramref name="destination"/> only; allocates nothing. Each call advances the offset by one.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Fill(Span<float> destination)
    {
        var offset = _offset++;
        for (var i = 0; i < destination.Length; i++)
        {
            var (x, y, _, _) = Philox4x32.Generate(offset, 0, (uint)i, 0, _keyLow, _keyHigh);
            destination[i] = BoxMullerSin(x, y);
        }
    }

    private static float BoxMullerSin(uint x, uint y)
    {
        var u = x * TwoPow32Inv + TwoPow32Inv / 2;
        var v = y * TwoPow32InvTwoPi + TwoPow32InvTwoPi / 2;
        var radius = Math.Sqrt(-2.0 * Math.Log(u));
        return (float)(radius * Math.Sin(v));
    }
}
