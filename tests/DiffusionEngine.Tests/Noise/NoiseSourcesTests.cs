using DiffusionEngine.Noise;
using DiffusionEngine.Pipelines;

namespace DiffusionEngine.Tests.Noise;

public class NoiseSourcesTests
{
    [Fact]
    public void Create_Cpu_GivesTorchCpuNoise_AndGpu_GivesPhiloxNoise()
    {
        Assert.IsType<TorchCpuNoise>(NoiseSources.Create(RngKind.Cpu, 1));
        Assert.IsType<PhiloxNoise>(NoiseSources.Create(RngKind.Gpu, 1));
    }

    [Fact]
    public void Create_SameKindAndSeed_GivesTheSameStream()
    {
        var a = new float[64];
        var b = new float[64];
        NoiseSources.Create(RngKind.Cpu, 42).Fill(a);
        NoiseSources.Create(RngKind.Cpu, 42).Fill(b);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Create_UndefinedKind_ThrowsNamingTheValue()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => NoiseSources.Create((RngKind)7, 1));
        Assert.Contains("7", error.Message);
    }
}
