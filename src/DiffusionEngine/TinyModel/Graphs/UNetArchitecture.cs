namespace DiffusionEngine.TinyModel.Graphs;

/// <summary>
/// Sizes of a diffusers UNet2DConditionModel. <see cref="CrossAttention"/>[i] says whether down block i is a
/// CrossAttnDownBlock2D (else DownBlock2D); the up blocks mirror it. <see cref="AttentionHeads"/> is what SD 1.5's
/// config calls attention_head_dim (a known misnomer: it is the number of heads); with <see cref="AttentionHeadDim"/>
/// set, each level instead has channels / head-dim heads (SDXL: 64-wide heads).
/// </summary>
internal sealed record UNetArchitecture(
    int[] BlockOutChannels,
    bool[] CrossAttention,
    int LayersPerBlock,
    int AttentionHeads,
    int CrossAttentionDim,
    int NormGroups,
    int SampleSize)
{
    public const int LatentChannels = 4;

    /// <summary>Channels of <c>sample</c>: 4, or 9 for an inpainting UNet (latents ‖ mask ‖ masked-image latents).</summary>
    public int InChannels { get; init; } = LatentChannels;

    /// <summary>When set, every attention has channels / this many heads (SDXL: 64); else <see cref="AttentionHeads"/>.</summary>
    public int? AttentionHeadDim { get; init; }

    /// <summary>Transformer blocks per attention at each level (SDXL: 1, 2, 10; the mid block uses the last); null: one each.</summary>
    public int[]? TransformerLayers { get; init; }

    /// <summary>Linear proj_in/proj_out in the transformers (SD 2.x, SDXL) instead of 1×1 convolutions (SD 1.x).</summary>
    public bool LinearProjection { get; init; }

    /// <summary>
    /// SDXL's addition_embed_type "text_time": the width of each time id's sinusoidal embedding (addition_time_embed_dim,
    /// 256 in SDXL), with <see cref="TextEmbedsDim"/> the width of text_embeds; null for no added conditioning.
    /// </summary>
    public int? AdditionTimeEmbedDim { get; init; }

    /// <summary>Width of the <c>text_embeds</c> input (SDXL: text_encoder_2's projection_dim, 1280).</summary>
    public int TextEmbedsDim { get; init; }

    /// <summary>An LCM UNet's time_cond_proj_dim: the width of <c>timestep_cond</c>; null for none.</summary>
    public int? TimeCondProjDim { get; init; }

    public int TimeEmbeddingDim => BlockOutChannels[0] * 4;

    /// <summary>projection_class_embeddings_input_dim: text_embeds ‖ the six time ids' embeddings.</summary>
    public int AdditionEmbeddingInputDim => TextEmbedsDim + 6 * (AdditionTimeEmbedDim ?? 0);

    public int HeadsAt(int channels) => AttentionHeadDim is { } headDim ? channels / headDim : AttentionHeads;

    public int TransformerLayersAt(int level) => TransformerLayers?[level] ?? 1;

    /// <summary>
    /// Toy scale, shaped like diffusers' own tiny test UNet (hf-internal-testing/tiny-stable-diffusion-torch): levels
    /// of 32 (DownBlock2D) and 64 (CrossAttnDownBlock2D) channels. Attention sits at the lower resolution because
    /// full-resolution self-attention would cost more than everything else together at this width.
    /// </summary>
    public static UNetArchitecture Tiny { get; } = new([32, 64], [false, true], 1, 2, TextEncoderArchitecture.Tiny.HiddenSize, 8, 32);

    /// <summary>The tiny SDXL preset: linear projections, two transformer blocks at the attention level, text_embeds and time_ids.</summary>
    public static UNetArchitecture TinyXL { get; } = new([32, 64], [false, true], 1, 2,
        TextEncoderArchitecture.Tiny.HiddenSize + TextEncoderArchitecture.TinyWithProjection.HiddenSize, 8, 32)
    {
        TransformerLayers = [1, 2],
        LinearProjection = true,
        AdditionTimeEmbedDim = 8,
        TextEmbedsDim = TextEncoderArchitecture.TinyWithProjection.ProjectionDim!.Value,
    };

    /// <summary>SD 1.5's UNet: 859,520,964 parameters.</summary>
    public static UNetArchitecture Sd15 { get; } = new([320, 640, 1280, 1280], [true, true, true, false], 2, 8, 768, 32, 64);

    /// <summary>
    /// SDXL base's UNet (2,567,463,684 parameters): levels 320 (no attention), 640 and 1280 with 2 and 10 transformer
    /// blocks of 64-wide heads, linear projections, cross-attention to 2048-wide states, text_embeds (1280) and time_ids
    /// embedded 256 wide each.
    /// </summary>
    public static UNetArchitecture Sdxl { get; } = new([320, 640, 1280], [false, true, true], 2, 0, 2048, 32, 128)
    {
        AttentionHeadDim = 64,
        TransformerLayers = [1, 2, 10],
        LinearProjection = true,
        AdditionTimeEmbedDim = 256,
        TextEmbedsDim = 1280,
    };
}
