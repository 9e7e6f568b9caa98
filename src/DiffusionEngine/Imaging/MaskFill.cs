using SkiaSharp;

namespace DiffusionEngine.Imaging;

/// <summary>
/// A1111's inpainting_fill 0 ("fill", <c>masking.fill</c>): the masked area of the init image is replaced by the
/// colours around it before the image is encoded, so the model starts from a smooth guess instead of what was there.
/// The kept pixels, with alpha 1 − mask, are blurred at decreasing radii (256, 64, 16, 4, 2, 0 pixels; the finer ones
/// composited several times) and alpha-composited over each other, all in premultiplied alpha as PIL's RGBa; the last,
/// unblurred layer puts every fully kept pixel back exactly.
/// </summary>
public static class MaskFill
{
    private static readonly (int Radius, int Repeats)[] Passes = [(256, 1), (64, 1), (16, 2), (4, 4), (2, 2), (0, 1)];

    /// <param name="image">The init image; its alpha is ignored (A1111 flattens it first).</param>
    /// <param name="mask">[height·width] in [0, 1], 1 = repaint, at the image's size.</param>
    /// <returns>An opaque image of the same size.</returns>
    public static unsafe RgbaImage Fill(RgbaImage image, ReadOnlySpan<float> mask)
    {
        var (width, height) = (image.Width, image.Height);
        if (mask.Length != width * height) throw new ArgumentException($"mask must hold {width}x{height} values but holds {mask.Length}", nameof(mask));
        var kept = new byte[width * height * 4];
        for (var p = 0; p < mask.Length; p++)
        {
            image.Pixels.AsSpan(4 * p, 3).CopyTo(kept.AsSpan(4 * p));
            kept[4 * p + 3] = (byte)(255 - GrayMask.ToByte(mask[p]));
        }

        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var source = SKImage.FromPixelCopy(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul), kept);
        using var accumulated = SKSurface.Create(info) ?? throw new InvalidOperationException("SkiaSharp could not create a surface");
        accumulated.Canvas.Clear(SKColors.Transparent);
        using var layerSurface = SKSurface.Create(info) ?? throw new InvalidOperationException("SkiaSharp could not create a surface");
        foreach (var (radius, repeats) in Passes)
        {
            SKImage layer;
            if (radius == 0) layer = source;
            else
            {
                // PIL's GaussianBlur(radius) takes the standard deviation; its edges extend the border pixels (clamp).
                using var blur = SKImageFilter.CreateBlur(radius, radius, SKShaderTileMode.Clamp);
                using var paint = new SKPaint { ImageFilter = blur };
                layerSurface.Canvas.Clear(SKColors.Transparent);
                layerSurface.Canvas.DrawImage(source, 0, 0, paint);
                layer = layerSurface.Snapshot();
            }
            try
            {
                for (var i = 0; i < repeats; i++) accumulated.Canvas.DrawImage(layer, 0, 0); // source-over: PIL's alpha_composite
            }
            finally
            {
                if (!ReferenceEquals(layer, source)) layer.Dispose();
            }
        }

        // PIL's convert("RGB"): the straight colour, alpha dropped.
        var result = new byte[width * height * 4];
        fixed (byte* destination = result)
        {
            if (!accumulated.ReadPixels(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul), (IntPtr)destination, width * 4, 0, 0))
                throw new InvalidOperationException("SkiaSharp could not read the filled image");
        }
        for (var p = 3; p < result.Length; p += 4) result[p] = 255;
        return new RgbaImage(width, height, result);
    }
}
