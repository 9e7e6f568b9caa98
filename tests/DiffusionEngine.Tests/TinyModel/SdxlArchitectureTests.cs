using DiffusionEngine.TinyModel;
using DiffusionEngine.TinyModel.Graphs;
using DiffusionEngine.TinyModel.Onnx;

namespace DiffusionEngine.Tests.TinyModel;

/// <summary>
/// The sdxl preset is the full SDXL base architecture: its graphs (built without writing any weights) have the parameter
/// counts of the PyTorch models (diffusers' UNet2DConditionModel from stabilityai/stable-diffusion-xl-base-1.0's config,
/// transformers' CLIPTextModel / CLIPTextModelWithProjection).
/// </summary>
public sealed class SdxlArchitectureTests
{
    [Fact]
    public void SdxlUNet_HasTheParameterCountOfSdxlBase()
    {
        var graph = UNetGraph.Build(UNetArchitecture.Sdxl, OnnxElementType.Float, OnnxElementType.Float, TimestepInput.Float32Scalar, seed: 1);
        Assert.Equal(2_567_463_684L, GraphParameters.Count(graph));
    }

    [Fact]
    public void SdxlTextEncoder2_HasTheParameterCountOfOpenClipBigGWithProjection()
    {
        // 49408·1280 + 77·1280 embeddings, 32 layers of 19,677,440, final LayerNorm 2,560, text_projection 1280·1280.
        var graph = TextEncoderGraph.Build(TextEncoderArchitecture.SdxlBigG, 49408, OnnxElementType.Int64, OnnxElementType.Float, OnnxElementType.Float, seed: 1);
        Assert.Equal(694_659_840L, GraphParameters.Count(graph));
    }

    [Fact]
    public void SdxlTextEncoders_WithHiddenStates_OutputEveryLayerAndTheProjectionFirst()
    {
        var graph = TextEncoderGraph.Build(TextEncoderArchitecture.TinyWithProjection, 300, OnnxElementType.Int64, OnnxElementType.Float, OnnxElementType.Float,
            seed: 1, hiddenStates: true);

        Assert.Equal(["text_embeds", "last_hidden_state", "hidden_states.0", "hidden_states.1", "hidden_states.2"], graph.Outputs.Select(o => o.Name));
    }
}
