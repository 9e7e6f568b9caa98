namespace DiffusionEngine.Imaging;

/// <summary>
/// Cropping and A1111's <c>images.resize_image</c> modes that change the aspect ratio without stretching: 1 "crop and
/// resize" (cover, then cut the overflow centred) and 2 "resize and fill" (fit, then stretch the edge rows or columns
/// into the bars). Resampling is <see cref="RgbaImage.Resize"/>'s.
/// </summary>
public static class ResizeModes
{
    /// <summary>The pixels of <paramref name="region"/>, which must lie inside the image.</summary>
    public static RgbaImage Crop(RgbaImage image, CropRegion region)
    {
        if (region.X1 < 0 || region.Y1 < 0 || region.X2 > image.Width || region.Y2 > image.Height || region.Width <= 0 || region.Height <= 0)
            throw new ArgumentException($"crop region {region} is not inside the {image.Width}x{image.Height} image", nameof(region));
        var pixels = new byte[region.Width * region.Height * 4];
        for (var y = 0; y < region.Height; y++)
        {
            image.Pixels.AsSpan(((region.Y1 + y) * image.Width + region.X1) * 4, region.Width * 4).CopyTo(pixels.AsSpan(y * region.Width * 4));
        }
        return new RgbaImage(region.Width, region.Height, pixels);
    }

    /// <summary>A1111's resize mode 1: scaled to cover <paramref name="width"/>×<paramref name="height"/>, the overflow cut off centred.</summary>
    public static RgbaImage CropAndResize(RgbaImage image, int width, int height)
    {
        var ratio = (double)width / height;
        var sourceRatio = (double)image.Width / image.Height;
        var scaledWidth = ratio > sourceRatio ? width : image.Width * height / image.Height;
        var scaledHeight = ratio <= sourceRatio ? height : image.Height * width / image.Width;
        var scaled = image.Resize(Math.Max(scaledWidth, 1), Math.Max(scaledHeight, 1));
        if (scaled.Width == width && scaled.Height == height) return scaled;
        var result = new byte[width * height * 4];
        Paste(scaled, result, width, height, width / 2 - scaled.Width / 2, height / 2 - scaled.Height / 2);
        return new RgbaImage(width, height, result);
    }

    /// <summary>
    /// A1111's resize mode 2: scaled to fit inside <paramref name="width"/>×<paramref name="height"/>, centred, and the
    /// bars filled with the scaled image's first and last row (or column) stretched across them.
    /// </summary>
    public static RgbaImage ResizeAndFill(RgbaImage image, int width, int height)
    {
        var ratio = (double)width / height;
        var sourceRatio = (double)image.Width / image.Height;
        var scaledWidth = ratio < sourceRatio ? width : image.Width * height / image.Height;
        var scaledHeight = ratio >= sourceRatio ? height : image.Height * width / image.Width;
        var scaled = image.Resize(Math.Max(scaledWidth, 1), Math.Max(scaledHeight, 1));
        if (scaled.Width == width && scaled.Height == height) return scaled;
        var result = new byte[width * height * 4];
        var left = width / 2 - scaled.Width / 2;
        var top = height / 2 - scaled.Height / 2;
        Paste(scaled, result, width, height, left, top);
        var pixels = scaled.Pixels;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var sx = x - left;
                var sy = y - top;
                if (sx >= 0 && sx < scaled.Width && sy >= 0 && sy < scaled.Height) continue;
                // Bars above/below take the nearest edge row, bars left/right the nearest edge column.
                var from = (Math.Clamp(sy, 0, scaled.Height - 1) * scaled.Width + Math.Clamp(sx, 0, scaled.Width - 1)) * 4;
                pixels.AsSpan(from, 4).CopyTo(result.AsSpan((y * width + x) * 4));
            }
        }
        return new RgbaImage(width, height, result);
    }

    // PIL's paste: the part of the source that falls inside the destination.
    private static void Paste(RgbaImage source, byte[] destination, int width, int height, int left, int top)
    {
        for (var y = 0; y < source.Height; y++)
        {
            var dy = top + y;
            if (dy < 0 || dy >= height) continue;
            var x0 = Math.Max(0, -left);
            var x1 = Math.Min(source.Width, width - left);
            if (x1 <= x0) continue;
            source.Pixels.AsSpan((y * source.Width + x0) * 4, (x1 - x0) * 4).CopyTo(destination.AsSpan((dy * width + left + x0) * 4));
        }
    }
}
