using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DiffusionEngine.Noise;

/// <summary>
/// Eight-lane single-precision <c>log</c> and <c>sincos</c> reproducing, bit for bit, the Cephes-derived polynomials of
/// PyTorch's <c>aten/src/ATen/native/cpu/avx_mathfun.h</c> (<c>log256_ps</c>, <c>sincos256_ps</c>) as GCC compiles them
/// for the AVX2 kernels (<c>-mavx2 -mfma</c>, default <c>-ffp-contract=fast</c>).
/// </summary>
/// <remarks>
/// GCC contracts a multiply into the add that consumes it; where two products meet in one add, the product written
/// first in the source is the one fused. Every <c>Vector256.FusedMultiplyAdd</c> below stands where the
/// compiled kernel has a <c>vfmadd</c>/<c>vfnmadd</c>/<c>vfmsub</c>, every plain operator where it has a separate
/// <c>vmulps</c>/<c>vaddps</c> (read off GCC 12's assembly; see BENCHMARKS.md, "Seed parity"). Change nothing here without
/// rerunning the measured-latent tests: one moved rounding changes about 1 in 40 values by an ulp.
/// </remarks>
internal static class CephesVector256
{
    // log
    private static readonly Vector256<float> One = Vector256.Create(1f);
    private static readonly Vector256<float> Half = Vector256.Create(0.5f);
    private static readonly Vector256<float> MinNormPos = Vector256.Create(0x00800000).AsSingle();
    private static readonly Vector256<float> InvMantMask = Vector256.Create(~0x7F800000).AsSingle();
    private static readonly Vector256<float> SqrtHalf = Vector256.Create(0.707106781186547524f);
    private static readonly Vector256<float> LogP0 = Vector256.Create(7.0376836292E-2f);
    private static readonly Vector256<float> LogP1 = Vector256.Create(-1.1514610310E-1f);
    private static readonly Vector256<float> LogP2 = Vector256.Create(1.1676998740E-1f);
    private static readonly Vector256<float> LogP3 = Vector256.Create(-1.2420140846E-1f);
    private static readonly Vector256<float> LogP4 = Vector256.Create(1.4249322787E-1f);
    private static readonly Vector256<float> LogP5 = Vector256.Create(-1.6668057665E-1f);
    private static readonly Vector256<float> LogP6 = Vector256.Create(2.0000714765E-1f);
    private static readonly Vector256<float> LogP7 = Vector256.Create(-2.4999993993E-1f);
    private static readonly Vector256<float> LogP8 = Vector256.Create(3.3333331174E-1f);
    private static readonly Vector256<float> LogQ1 = Vector256.Create(-2.12194440e-4f);
    private static readonly Vector256<float> LogQ2 = Vector256.Create(0.693359375f);

    // sincos
    private static readonly Vector256<float> SignMask = Vector256.Create(unchecked((int)0x80000000)).AsSingle();
    private static readonly Vector256<float> FourOverPi = Vector256.Create(1.27323954473516f);
    private static readonly Vector256<float> MinusDp1 = Vector256.Create(-0.78515625f);
    private static readonly Vector256<float> MinusDp2 = Vector256.Create(-2.4187564849853515625e-4f);
    private static readonly Vector256<float> MinusDp3 = Vector256.Create(-3.77489497744594108e-8f);
    private static readonly Vector256<float> SinP0 = Vector256.Create(-1.9515295891E-4f);
    private static readonly Vector256<float> SinP1 = Vector256.Create(8.3321608736E-3f);
    private static readonly Vector256<float> SinP2 = Vector256.Create(-1.6666654611E-1f);
    private static readonly Vector256<float> CosP0 = Vector256.Create(2.443315711809948E-005f);
    private static readonly Vector256<float> CosP1 = Vector256.Create(-1.388731625493765E-003f);
    private static readonly Vector256<float> CosP2 = Vector256.Create(4.166664568298827E-002f);

    /// <summary>Natural logarithm of positive finite lanes (torch only calls it on (0, 1]; no NaN handling for x ≤ 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Vector256<float> Log(Vector256<float> x)
    {
        x = Vector256.Max(x, MinNormPos);
        var exponentBits = Vector256.ShiftRightLogical(x.AsInt32(), 23);

        // Keep the mantissa, with the exponent of 0.5: m in [0.5, 1).
        x = (x & InvMantMask) | Half;
        var e = Vector256.ConvertToSingle(exponentBits - Vector256.Create(0x7F)) + One;

        // if (m < sqrt(1/2)) { e -= 1; x = m + m - 1; } else { x = m - 1; }
        var small = Vector256.LessThan(x, SqrtHalf);
        var extra = x & small;
        x -= One;
        e -= One & small;
        x += extra;

        var z = x * x;
        var y = Vector256.FusedMultiplyAdd(LogP0, x, LogP1);
        y = Vector256.FusedMultiplyAdd(y, x, LogP2);
        y = Vector256.FusedMultiplyAdd(y, x, LogP3);
        y = Vector256.FusedMultiplyAdd(y, x, LogP4);
        y = Vector256.FusedMultiplyAdd(y, x, LogP5);
        y = Vector256.FusedMultiplyAdd(y, x, LogP6);
        y = Vector256.FusedMultiplyAdd(y, x, LogP7);
        y = Vector256.FusedMultiplyAdd(y, x, LogP8);
        y *= x;

        // y*z + e*q1: the earlier product (y*z) is fused, e*q1 is rounded on its own.
        y = Vector256.FusedMultiplyAdd(y, z, e * LogQ1);
        y = Vector256.FusedMultiplyAdd(-z, Half, y);
        x += y;
        return Vector256.FusedMultiplyAdd(e, LogQ2, x);
    }

    /// <summary>Sine and cosine of finite lanes with |t| well below 8192 (torch passes θ = 2π·u in [0, 2π)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SinCos(Vector256<float> t, out Vector256<float> sin, out Vector256<float> cos)
    {
        var signSin = t & SignMask;
        var x = Vector256.AndNot(t, SignMask);

        // j = (trunc(|t| * 4/pi) + 1) & ~1: the octant, rounded up to even.
        var j = Vector256.ConvertToInt32(x * FourOverPi);
        j = (j + Vector256<int>.One) & Vector256.Create(~1);
        var y = Vector256.ConvertToSingle(j);

        var swapSignSin = Vector256.ShiftLeft(j & Vector256.Create(4), 29).AsSingle();
        var polyMask = Vector256.Equals(j & Vector256.Create(2), Vector256<int>.Zero).AsSingle();

        // Extended-precision range reduction: x = ((x - y*DP1) - y*DP2) - y*DP3, each step one fma.
        x = Vector256.FusedMultiplyAdd(y, MinusDp1, x);
        x = Vector256.FusedMultiplyAdd(y, MinusDp2, x);
        x = Vector256.FusedMultiplyAdd(y, MinusDp3, x);

        var signCos = Vector256.ShiftLeft(~(j - Vector256.Create(2)) & Vector256.Create(4), 29).AsSingle();
        signSin ^= swapSignSin;

        var z = x * x;

        // cos polynomial on [0, pi/4]: ((c0 z + c1) z + c2) z z - z/2 + 1; the second z-product is fused with -z/2.
        var yc = Vector256.FusedMultiplyAdd(CosP0, z, CosP1);
        yc = Vector256.FusedMultiplyAdd(yc, z, CosP2);
        yc *= z;
        yc = Vector256.FusedMultiplyAdd(yc, z, -(z * Half));
        yc += One;

        // sin polynomial on [0, pi/4]: ((s0 z + s1) z + s2) z x + x.
        var ys = Vector256.FusedMultiplyAdd(SinP0, z, SinP1);
        ys = Vector256.FusedMultiplyAdd(ys, z, SinP2);
        ys *= z;
        ys = Vector256.FusedMultiplyAdd(ys, x, x);

        // Select per lane which polynomial is the sine and which the cosine, with the kernel's own add/sub
        // arithmetic (not a blend) so that signed zeros come out as torch's do.
        var sinFromSinPoly = polyMask & ys;
        var sinFromCosPoly = Vector256.AndNot(yc, polyMask);
        var cosFromSinPoly = ys - sinFromSinPoly;
        var cosFromCosPoly = yc - sinFromCosPoly;
        sin = (sinFromCosPoly + sinFromSinPoly) ^ signSin;
        cos = (cosFromCosPoly + cosFromSinPoly) ^ signCos;
    }
}
