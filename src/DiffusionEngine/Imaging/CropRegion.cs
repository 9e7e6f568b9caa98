namespace DiffusionEngine.Imaging;

/// <summary>
/// A rectangle of an image, corners (<see cref="X1"/>, <see cref="Y1"/>) inclusive and (<see cref="X2"/>,
/// <see cref="Y2"/>) exclusive, as PIL's boxes: the area A1111's "only masked" inpainting (inpaint_full_res) works on.
/// </summary>
public readonly record struct CropRegion(int X1, int Y1, int X2, int Y2)
{
    public int Width => X2 - X1;

    public int Height => Y2 - Y1;

    /// <summary>
    /// A1111's <c>get_crop_region_v2</c>: the bounding box of the mask's non-zero pixels (PIL's <c>getbbox</c> on the
    /// 8-bit mask, so a value that rounds to 0 counts as 0), grown by <paramref name="padding"/> on every side and clipped
    /// to the image; null when no pixel is masked.
    /// </summary>
    /// <param name="mask">The mask [height·width], values in [0, 1].</param>
    /// <param name="width">The image width.</param>
    /// <param name="height">The image height.</param>
    /// <param name="padding">Pixels added on every side (A1111's inpaint_full_res_padding).</param>
    public static CropRegion? AroundMask(ReadOnlySpan<float> mask, int width, int height, int padding)
    {
        if (mask.Length != width * height) throw new ArgumentException($"mask must hold {width}x{height} values but holds {mask.Length}", nameof(mask));
        int x1 = width, y1 = height, x2 = 0, y2 = 0;
        for (var y = 0; y < height; y++)
        {
            var row = mask.Slice(y * width, width);
            for (var x = 0; x < width; x++)
            {
                if (row[x] * 255f < 0.5f) continue;
                x1 = Math.Min(x1, x);
                x2 = Math.Max(x2, x + 1);
                y1 = Math.Min(y1, y);
                y2 = y + 1;
            }
        }
        if (x2 == 0) return null;
        return new CropRegion(Math.Max(x1 - padding, 0), Math.Max(y1 - padding, 0), Math.Min(x2 + padding, width), Math.Min(y2 + padding, height));
    }

    /// <summary>
    /// A1111's <c>expand_crop_region</c>: grows the shorter side so the region has the processing size's aspect ratio
    /// (the difference truncated, split with the odd pixel after), shifted back inside the image where it sticks out and
    /// clipped where the image is too small. A mask drawn in 128×32 of an image processed at 512×512 becomes 128×128.
    /// </summary>
    public CropRegion ExpandToRatio(int processingWidth, int processingHeight, int imageWidth, int imageHeight)
    {
        var (x1, y1, x2, y2) = (X1, Y1, X2, Y2);
        var ratioCrop = (double)(x2 - x1) / (y2 - y1);
        var ratioProcessing = (double)processingWidth / processingHeight;
        if (ratioCrop > ratioProcessing)
        {
            var desiredHeight = (x2 - x1) / ratioProcessing;
            var diff = (int)(desiredHeight - (y2 - y1)); // Python's int() truncates toward 0
            y1 -= FloorHalf(diff);
            y2 += diff - FloorHalf(diff);
            if (y2 >= imageHeight)
            {
                var over = y2 - imageHeight;
                y2 -= over;
                y1 -= over;
            }
            if (y1 < 0)
            {
                y2 -= y1;
                y1 = 0;
            }
            if (y2 >= imageHeight) y2 = imageHeight;
        }
        else
        {
            var desiredWidth = (y2 - y1) * ratioProcessing;
            var diff = (int)(desiredWidth - (x2 - x1));
            x1 -= FloorHalf(diff);
            x2 += diff - FloorHalf(diff);
            if (x2 >= imageWidth)
            {
                var over = x2 - imageWidth;
                x2 -= over;
                x1 -= over;
            }
            if (x1 < 0)
            {
                x2 -= x1;
                x1 = 0;
            }
            if (x2 >= imageWidth) x2 = imageWidth;
        }
        return new CropRegion(x1, y1, x2, y2);
    }

    // Python's // rounds toward −∞.
    private static int FloorHalf(int value) => (int)Math.Floor(value / 2.0);
}
