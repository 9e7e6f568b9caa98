using DiffusionEngine.Pipelines;

namespace DiffusionEngine.Noise;

/// <summary>Creates the noise source an <see cref="RngKind"/> names.</summary>
public static class NoiseSources
{
    /// <summary>A fresh, seeded stream of the given kind (one per image: A1111 gives image i of a batch seed + i).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a defined <see cref="RngKind"/>.</exception>
    public static INoiseSource Create(RngKind kind, ulong seed) => kind switch
    {
        RngKind.Cpu => new TorchCpuNoise(seed),
        RngKind.Gpu => new PhiloxNoise(seed),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, $"rng kind must be Cpu or Gpu but was {kind}"),
    };
}
