namespace DiffusionEngine.TinyModel.Graphs;

/// <summary>
/// Sizes of a diffusers UNet2DConditionModel. <see cref="CrossAttention"/>[i] says whether down block i is a
/// CrossAttnDownBlock2D (else DownBlock2D); the up blocks mirror it. <see cref="AttentionHeads"/> is what SD 1.5's
/// config calls attention_head_dim (a known misnomer: it is the number of heads).
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

    public int TimeEmbeddingDim => BlockOutChannels[0] * 4;

    /// <summary>
    /// Toy scale, shaped like diffusers' own tiny test UNet (hf-internal-testing/tiny-stable-diffusion-torch): levels
    /// of 32 (DownBlock2D) and 64 (CrossAttnDownBlock2D) channels. Attention sits at the lower resolution because
    /// full-resolution self-attention would cost more than everything else together at this width.
    /// </summary>
    public static UNetArchitecture Tiny { get; } = new([32, 64], [false, true], 1, 2, TextEncoderArchitecture.Tiny.HiddenSize, 8, 32);

    /// <summary>SD 1.5's UNet: 859,520,964 parameters.</summary>
    public static UNetArchitecture Sd15 { get; } = new([320, 640, 1280, 1280], [true, true, true, false], 2, 8, 768, 32, 64);
}
