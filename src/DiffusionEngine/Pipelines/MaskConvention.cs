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

/// <summary>How a mask pixel reads under each <see cref="MaskConvention"/>; the one definition the engine and callers share.</summary>
public static class MaskConventions
{
    /// <summary>Whether the RGBA pixel <paramref name="rgba"/> (4 bytes, straight alpha) marks "repaint" under <paramref name="convention"/>.</summary>
    public static bool Repaints(ReadOnlySpan<byte> rgba, MaskConvention convention) =>
        convention == MaskConvention.Transparency ? rgba[3] == 0 : Luma(rgba[0], rgba[1], rgba[2], rgba[3]) >= 128;

    /// <summary>Whether any pixel of <paramref name="mask"/> marks "repaint" (before any blur): a mask that marks none keeps every pixel.</summary>
    public static bool MarksAnyPixel(Imaging.RgbaImage mask, MaskConvention convention)
    {
        ArgumentNullException.ThrowIfNull(mask);
        var pixels = mask.Pixels.AsSpan();
        for (var p = 0; p < pixels.Length; p += 4)
        {
            if (Repaints(pixels.Slice(p, 4), convention)) return true;
        }
        return false;
    }

    /// <summary>
    /// PIL's RGB→L conversion (ITU-R 601-2 luma, L = (19595 R + 38470 G + 7471 B + 2^15) >> 16) of the pixel composited
    /// over black, so transparent mask pixels count as black (keep).
    /// </summary>
    private static int Luma(byte red, byte green, byte blue, byte alpha)
    {
        int r = red, g = green, b = blue;
        if (alpha != 255)
        {
            r = (r * alpha + 127) / 255;
            g = (g * alpha + 127) / 255;
            b = (b * alpha + 127) / 255;
        }
        return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
    }
}
