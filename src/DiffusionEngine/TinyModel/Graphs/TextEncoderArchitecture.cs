namespace DiffusionEngine.TinyModel.Graphs;

/// <summary>
/// Sizes of a CLIP text transformer (transformers' CLIPTextConfig). <see cref="ProjectionDim"/> set makes it a
/// CLIPTextModelWithProjection (SDXL's text_encoder_2), whose pooled output is projected to <c>text_embeds</c>.
/// </summary>
internal sealed record TextEncoderArchitecture(
    int HiddenSize,
    int IntermediateSize,
    int AttentionHeads,
    int HiddenLayers,
    int MaxPositionEmbeddings,
    float LayerNormEpsilon)
{
    /// <summary>The MLP activation: CLIP ViT-L's quick GELU, or OpenCLIP ViT-bigG's exact GELU.</summary>
    public bool ExactGelu { get; init; }

    /// <summary>Width of text_embeds (text_projection, no bias), or null for a CLIPTextModel (pooler_output).</summary>
    public int? ProjectionDim { get; init; }

    /// <summary>Toy scale: 2 layers of width 32.</summary>
    public static TextEncoderArchitecture Tiny { get; } = new(32, 128, 2, 2, 77, 1e-5f);

    /// <summary>The tiny SDXL preset's text_encoder_2: 2 layers of width 48, exact GELU, text_embeds of width 32.</summary>
    public static TextEncoderArchitecture TinyWithProjection { get; } = new(48, 192, 2, 2, 77, 1e-5f) { ExactGelu = true, ProjectionDim = 32 };

    /// <summary>CLIP ViT-L/14's text tower, as SD 1.5 uses it (123 M parameters with the CLIP vocabulary); SDXL's text_encoder too.</summary>
    public static TextEncoderArchitecture Sd15 { get; } = new(768, 3072, 12, 12, 77, 1e-5f);

    /// <summary>OpenCLIP ViT-bigG/14's text tower with its projection, SDXL's text_encoder_2 (694,659,840 parameters).</summary>
    public static TextEncoderArchitecture SdxlBigG { get; } = new(1280, 5120, 20, 32, 77, 1e-5f) { ExactGelu = true, ProjectionDim = 1280 };
}
