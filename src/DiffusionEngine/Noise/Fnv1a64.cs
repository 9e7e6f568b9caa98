using System.Runtime.InteropServices;

namespace DiffusionEngine.Noise;

/// <summary>
/// 64-bit FNV-1a, the fingerprint used for noise reference vectors (rng.md, torch_randn_reference.json): the hash of a
/// latent is the hash of its float32 values' little-endian bytes in row-major order.
/// </summary>
public static class Fnv1a64
{
    private const ulong OffsetBasis = 14695981039346656037;
    private const ulong Prime = 1099511628211;

    /// <summary>FNV-1a-64 of <paramref name="bytes"/>.</summary>
    public static ulong Hash(ReadOnlySpan<byte> bytes)
    {
        var hash = OffsetBasis;
        foreach (var b in bytes)
        {
            hash ^= b;
            hash *= Prime;
        }

        return hash;
    }

    /// <summary>FNV-1a-64 of the little-endian bytes of <paramref name="values"/>.</summary>
    public static ulong Hash(ReadOnlySpan<float> values)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("float hashing assumes a little-endian machine");
        }

        return Hash(MemoryMarshal.AsBytes(values));
    }
}
