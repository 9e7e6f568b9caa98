using DiffusionEngine.TinyModel;
using DiffusionEngine.TinyModel.Graphs;
using DiffusionEngine.TinyModel.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Tests.TinyModel;

/// <summary>
/// The sd15 preset is the full SD 1.5 architecture: its graphs (built without writing any weights) have the parameter
/// counts of the PyTorch models, and the same structure at tiny widths runs in ONNX Runtime.
/// </summary>
public sealed class Sd15ArchitectureTests
{
    [Fact]
    public void Sd15UNet_HasTheParameterCountOfStableDiffusion15()
    {
        var graph = UNetGraph.Build(UNetArchitecture.Sd15, OnnxElementType.Float, OnnxElementType.Float, TimestepInput.Int64Batch, seed: 1);
        Assert.Equal(859_520_964L, GraphParameters.Count(graph));
    }

    [Fact]
    public void Sd15TextEncoder_HasTheParameterCountOfClipVitL14sTextModel()
    {
        var graph = TextEncoderGraph.Build(TextEncoderArchitecture.Sd15, 49408, OnnxElementType.Int32, OnnxElementType.Float, OnnxElementType.Float, seed: 1);
        Assert.Equal(123_060_480L, GraphParameters.Count(graph));
    }

    [Fact]
    public void Sd15Vae_EncoderAndDecoderTogether_HaveTheParameterCountOfStableDiffusion15sAutoencoderKL()
    {
        var decoder = VaeGraph.BuildDecoder(VaeArchitecture.Sd15, OnnxElementType.Float, OnnxElementType.Float, seed: 1);
        var encoder = VaeGraph.BuildEncoder(VaeArchitecture.Sd15, OnnxElementType.Float, OnnxElementType.Float, seed: 1);
        Assert.Equal(83_653_863L, GraphParameters.Count(decoder) + GraphParameters.Count(encoder));
    }

    [Fact]
    public void Sd15Structure_AtTinyWidths_RunsInOnnxRuntime_ThroughAllFourLevelsAndTwelveSkips()
    {
        // SD 1.5's block layout (4 levels, 2 ResNets per level, cross-attention on the first three) at widths 8–32.
        var unetArch = UNetArchitecture.Sd15 with { BlockOutChannels = [8, 16, 32, 32], AttentionHeads = 2, CrossAttentionDim = 16, NormGroups = 4 };
        var vaeArch = VaeArchitecture.Sd15 with { BlockOutChannels = [8, 8, 16, 16], NormGroups = 4 };
        using var directory = new TemporaryDirectory();
        var unetPath = Path.Combine(directory.Path, "unet.onnx");
        var decoderPath = Path.Combine(directory.Path, "vae_decoder.onnx");
        OnnxModelWriter.Write(UNetGraph.Build(unetArch, OnnxElementType.Float, OnnxElementType.Float, TimestepInput.Float32Scalar, seed: 1), unetPath, null);
        OnnxModelWriter.Write(VaeGraph.BuildDecoder(vaeArch, OnnxElementType.Float, OnnxElementType.Float, seed: 1), decoderPath, null);

        using var unet = new InferenceSession(unetPath);
        using var decoder = new InferenceSession(decoderPath);
        using var sample = OrtValue.CreateTensorValueFromMemory(TinyModelRunner.GaussianLatents(1, 8, seed: 3), [1, 4, 8, 8]);
        using var timestep = OrtValue.CreateTensorValueFromMemory(new[] { 500f }, []);
        using var states = OrtValue.CreateTensorValueFromMemory(new float[77 * 16], [1, 77, 16]);
        using var runOptions = new RunOptions();
        using var noise = unet.Run(runOptions, ["sample", "timestep", "encoder_hidden_states"], [sample, timestep, states], ["out_sample"]);
        Assert.Equal([1L, 4, 8, 8], noise[0].GetTensorTypeAndShape().Shape);
        Assert.All(noise[0].GetTensorDataAsSpan<float>().ToArray(), value => Assert.True(float.IsFinite(value)));

        using var image = decoder.Run(runOptions, ["latent_sample"], [noise[0]], ["sample"]);
        Assert.Equal([1L, 3, 64, 64], image[0].GetTensorTypeAndShape().Shape);
    }
}
