namespace DiffusionEngine.Pipelines;

/// <summary>How <see cref="GenerationRequest.Mask"/> (or the init image) marks the area to repaint.</summary>
public enum MaskConvention
{
    /// <summary>
    /// The mask's brightness: white repaints, black keeps (diffusers' and A1111's convention). The mask is composited
    /// over black first, so its transparent pixels keep; grey is thresholded at 50 % (diffusers' binarize) after the
    /// luma conversion PIL's <c>convert("L")</c> uses (0.299 R + 0.587 G + 0.114 B).
    /// </summary>
    Luminance,

    /// <summary>
    /// OpenAI's images/edits convention: the fully transparent pixels (alpha 0) of the mask mark the area to edit;
    /// without a mask, the init image's own fully transparent pixels do. Every other pixel is kept.
    /// </summary>
    Transparency,
}
