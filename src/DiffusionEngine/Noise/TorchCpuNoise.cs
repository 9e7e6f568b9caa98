using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DiffusionEngine.Noise;

/// <summary>
/// Standard normal noise equal to PyTorch's CPU generator: <c>torch.Generator("cpu").manual_seed(seed)</c> followed by
/// <c>torch.randn(shape, generator=g, dtype=torch.float32)</c> calls, as diffusers (CPU generator), ComfyUI and A1111
/// ("RNG source: CPU") draw their initial latents. Each <see cref="Fill"/> call is one <c>torch.randn</c> call of
/// <c>destination.Length</c> elements; consecutive calls continue the generator's stream.
/// </summary>
/// <remarks>
/// <para>Two paths, chosen per call as torch does for a contiguous float32 tensor:</para>
/// <list type="bullet">
/// <item>fewer than 16 elements: double-precision Box–Muller from two 53-bit uniforms per pair; the second value of each
/// pair is cached in the generator and returned by the next scalar draw (even across calls);</item>
/// <item>16 or more: one 24-bit float uniform per element, then Box–Muller on each block of 16 (element j is the cosine
/// and j + 8 the sine of the pair (j, j + 8)); when the length is not a multiple of 16, 16 fresh uniforms overwrite the
/// last 16 elements and that window is transformed again. The float arithmetic is that of torch's x86-64 AVX2 kernel
/// (also used on AVX-512 machines), bit for bit; see <see cref="CephesVector256"/>.</item>
/// </list>
/// <para>Only the low 32 bits of the seed reach the engine, as in torch: seeds that differ by a multiple of 2^32 give the
/// same noise. Not thread-safe: one instance belongs to one image of one generation.</para>
/// </remarks>
public sealed class TorchCpuNoise : INoiseSource
{
    private const int BlockLength = 16;
    private const int HalfBlock = BlockLength / 2;
    private const float FloatUniformScale = 1f / (1 << 24);
    private const double DoubleUniformScale = 1.0 / (1L << 53);

    // 2π rounded to float (6.2831855f), as the AVX2 kernel's _mm256_set1_ps(2.0f * c10::pi<double>).
    private static readonly Vector256<float> TwoPi = Vector256.Create((float)(2.0 * Math.PI));
    private static readonly Vector256<float> One = Vector256.Create(1f);
    private static readonly Vector256<float> MinusTwo = Vector256.Create(-2f);

    private readonly Mt19937 _engine;
    private bool _hasCachedNormal;
    private double _cachedNormal;

    /// <summary>Creates the stream of a freshly seeded generator (torch's <c>manual_seed(seed)</c>).</summary>
    /// <param name="seed">The 64-bit seed; only its low 32 bits matter, as in torch.</param>
    public TorchCpuNoise(ulong seed)
    {
        _engine = new Mt19937(unchecked((uint)seed));
    }

    /// <inheritdoc />
    /// <remarks>Writes into <paramref name="destination"/> only; allocates nothing.</remarks>
    public void Fill(Span<float> destination)
    {
        if (destination.Length < BlockLength)
        {
            for (var i = 0; i < destination.Length; i++) destination[i] = (float)NextDoubleNormal();
            return;
        }

        FillUniforms(destination);
        var lastBlockStart = destination.Length - BlockLength;
        for (var start = 0; start <= lastBlockStart; start += BlockLength)
        {
            TransformBlock(destination.Slice(start, BlockLength));
        }

        if (destination.Length % BlockLength != 0)
        {
            // torch's tail rule: redraw the last 16 and transform that overlapping window.
            var tail = destination[lastBlockStart..];
            FillUniforms(tail);
            TransformBlock(tail);
        }
    }

    // at::normal_distribution<double>: returns the cached sine value if one is held, else makes a new pair.
    private double NextDoubleNormal()
    {
        if (_hasCachedNormal)
        {
            _hasCachedNormal = false;
            return _cachedNormal;
        }

        // Here the first uniform drives the angle and the second the radius (the block path does the opposite).
        var u1 = NextDoubleUniform();
        var u2 = NextDoubleUniform();

        // torch calls log1p(-u2). 1 - u2 is exact for a 53-bit uniform, so log(1 - u2) takes the same argument, and
        // .NET has no real log1p. The two libm functions could disagree in the last bit of the double, but the final
        // rounding to float hides that.
        var radius = Math.Sqrt(-2.0 * Math.Log(1.0 - u2));
        var theta = 2.0 * Math.PI * u1;
        _cachedNormal = radius * Math.Sin(theta);
        _hasCachedNormal = true;
        return radius * Math.Cos(theta);
    }

    // random64() takes the first draw as the high word; the uniform keeps the low 53 bits.
    private double NextDoubleUniform()
    {
        ulong high = _engine.NextUInt32();
        ulong low = _engine.NextUInt32();
        var bits = ((high << 32) | low) & ((1UL << 53) - 1);
        return bits * DoubleUniformScale;
    }

    // One u32 per element, in order; the float uniform is its low 24 bits times 2^-24 (exact).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void FillUniforms(Span<float> destination)
    {
        var raw = MemoryMarshal.Cast<float, uint>(destination);
        _engine.Fill(raw);
        for (var i = 0; i < raw.Length; i++)
        {
            destination[i] = (raw[i] & 0xFFFFFF) * FloatUniformScale;
        }
    }

    // normal_fill_16_AVX2: uniforms in, normals out, in place.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformBlock(Span<float> block)
    {
        var u1 = One - Vector256.Create<float>(block[..HalfBlock]);
        var u2 = Vector256.Create<float>(block[HalfBlock..]);
        var radius = Vector256.Sqrt(MinusTwo * CephesVector256.Log(u1));
        CephesVector256.SinCos(TwoPi * u2, out var sin, out var cos);

        // The kernel ends with fma(n, std = 1, mean = 0): exact, except that it turns -0 into +0; "+ 0" does the same.
        (radius * cos + Vector256<float>.Zero).CopyTo(block[..HalfBlock]);
        (radius * sin + Vector256<float>.Zero).CopyTo(block[HalfBlock..]);
    }
}
