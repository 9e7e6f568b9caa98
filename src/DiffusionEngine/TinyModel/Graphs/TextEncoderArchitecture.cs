namespace DiffusionEngine.TinyModel.Graphs;

/// <summary>Sizes of a CLIP text transformer (transformers' CLIPTextConfig).</summary>
internal sealed record TextEncoderArchitecture(
    int HiddenSize,
    int IntermediateSize,
    int AttentionHeads,
    int HiddenLayers,
    int MaxPositionEmbeddings,
    float LayerNormEpsilon)
{
    /// <summary>Toy scale: 2 layers of width 32.</summary>
    public static TextEncoderArchitecture Tiny { get; } = new(32, 128, 2, 2, 77, 1e-5f);

    /// <summary>CLIP ViT-L/14's text tower, as SD 1.5 uses it (123 M parameters with the CLIP vocabulary).</summary>
    public static TextEncoderArchitecture Sd15 { get; } = new(768, 3072, 12, 12, 77, 1e-5f);
}
