using System.Runtime.InteropServices;
using System.Text.Json;
using DiffusionEngine.Noise;
using DiffusionEngine.Tests.TestSupport;

namespace DiffusionEngine.Tests.Noise;

/// <summary>
/// Bit-for-bit comparison with MEASURED PyTorch output (../shared/data/torch-randn: python3-torch 1.13.1, x86-64 AVX2).
/// The reference JSON prints float32 values with 9 significant digits, which identifies each float exactly.
/// </summary>
public class TorchCpuMeasuredDataTests
{
    private static JsonElement Reference()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(SharedData.PathOf("torch-randn", "torch_randn_reference.json")));
        return document.RootElement.Clone();
    }

    private static int ElementCount(JsonElement shape)
    {
        var count = 1;
        foreach (var dimension in shape.EnumerateArray()) count *= dimension.GetInt32();
        return count;
    }

    private static float[] Floats(JsonElement values) =>
        [.. values.EnumerateArray().Select(v => v.GetSingle())];

    [SharedDataTheory]
    [InlineData("seed0_1x4x64x64.f32")]
    [InlineData("seed1234_1x4x64x64.f32")]
    [InlineData("seed4294967303_1x4x64x64.f32")]
    public void FullLatent_1x4x64x64_IsBitEqualToMeasuredTorch(string fileName)
    {
        var entry = Reference().GetProperty("files").GetProperty(fileName);
        var expected = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(SharedData.PathOf("torch-randn", fileName))).ToArray();
        Assert.Equal(ElementCount(entry.GetProperty("shape")), expected.Length);

        var actual = new float[expected.Length];
        new TorchCpuNoise(entry.GetProperty("seed").GetUInt64()).Fill(actual);

        NoiseAssert.BitEqual(expected, actual);
        Assert.Equal(ulong.Parse(entry.GetProperty("fnv1a64").GetString()!), Fnv1a64.Hash(actual));
    }

    [SharedDataFact]
    public void SmallShapes_BothPathsAndTails_AreBitEqualToMeasuredTorch()
    {
        var cases = Reference().GetProperty("small").EnumerateArray().ToList();
        Assert.NotEmpty(cases);
        foreach (var item in cases)
        {
            var expected = Floats(item.GetProperty("values"));
            Assert.Equal(ElementCount(item.GetProperty("shape")), expected.Length);
            var actual = new float[expected.Length];
            new TorchCpuNoise(item.GetProperty("seed").GetUInt64()).Fill(actual);
            NoiseAssert.BitEqual(expected, actual);
        }
    }

    [SharedDataFact]
    public void Stream_SeveralCallsOnOneGenerator_AreBitEqualToMeasuredTorch()
    {
        var stream = Reference().GetProperty("stream");
        var noise = new TorchCpuNoise(stream.GetProperty("seed").GetUInt64());
        var calls = stream.GetProperty("calls").EnumerateArray().ToList();
        var values = stream.GetProperty("values").EnumerateArray().ToList();
        Assert.Equal(calls.Count, values.Count);

        for (var call = 0; call < calls.Count; call++)
        {
            var expected = Floats(values[call]);
            Assert.Equal(ElementCount(calls[call]), expected.Length);
            var actual = new float[expected.Length];
            noise.Fill(actual);
            NoiseAssert.BitEqual(expected, actual);
        }
    }
}
