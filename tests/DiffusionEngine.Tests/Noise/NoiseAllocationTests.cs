using DiffusionEngine.Noise;
using DiffusionEngine.Tests.TestSupport;

namespace DiffusionEngine.Tests.Noise;

public class NoiseAllocationTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Fill_AfterTheFirstCall_AllocatesNothing(bool philox)
    {
        INoiseSource noise = philox ? new PhiloxNoise(3) : new TorchCpuNoise(3);
        var latent = new float[4 * 64 * 64 + 9];
        var small = new float[5];
        noise.Fill(latent);
        noise.Fill(small);

        var allocated = AllocationMeasurement.Fewest(() =>
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            noise.Fill(latent);
            noise.Fill(small);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        });
        Assert.Equal(0, allocated);
    }
}
