using DiffusionEngine.Imaging;

namespace DiffusionEngine.Tests.Imaging;

/// <summary>A1111's get_crop_region_v2 and expand_crop_region, with the expected values worked out by hand from its formulas.</summary>
public sealed class CropRegionTests
{
    private static float[] Box(int width, int height, int x1, int y1, int x2, int y2, float value = 1f)
    {
        var mask = new float[width * height];
        for (var y = y1; y < y2; y++)
        {
            for (var x = x1; x < x2; x++) mask[y * width + x] = value;
        }
        return mask;
    }

    [Fact]
    public void AroundMask_IsTheBoundingBox_ExclusiveAtTheFarEdges()
    {
        Assert.Equal(new CropRegion(10, 20, 15, 22), CropRegion.AroundMask(Box(64, 64, 10, 20, 15, 22), 64, 64, 0));
    }

    [Fact]
    public void AroundMask_GrowsByThePadding_ClippedToTheImage()
    {
        // (10−32, 10−32, 20+32, 20+32) clipped to 100×100: (0, 0, 52, 52).
        Assert.Equal(new CropRegion(0, 0, 52, 52), CropRegion.AroundMask(Box(100, 100, 10, 10, 20, 20), 100, 100, 32));
    }

    [Fact]
    public void AroundMask_CountsOnlyValuesThatAreNotZeroIn8Bits_AndIsNullForAnEmptyMask()
    {
        // 0.001·255 = 0.26 rounds to 0: PIL's getbbox on the 8-bit mask does not see it.
        var faint = Box(16, 16, 0, 0, 16, 16, 0.001f);
        faint[5 * 16 + 7] = 0.5f;
        Assert.Equal(new CropRegion(7, 5, 8, 6), CropRegion.AroundMask(faint, 16, 16, 0));
        Assert.Null(CropRegion.AroundMask(new float[16 * 16], 16, 16, 8));
    }

    [Fact]
    public void ExpandToRatio_WideRegion_GrowsItsHeightEvenly()
    {
        // 128×32 at 512×512: ratio 4 > 1, desired height 128, diff 96: y1 200−48 = 152, y2 232+48 = 280.
        Assert.Equal(new CropRegion(100, 152, 228, 280), new CropRegion(100, 200, 228, 232).ExpandToRatio(512, 512, 512, 512));
    }

    [Fact]
    public void ExpandToRatio_ShiftsBackInside_WhenItSticksOutAtTheBottom()
    {
        // 30×10 at 1:1: diff 20, y 50−10 = 40 .. 60+10 = 70; 70 ≥ 64 so both move up 6: 34 .. 64.
        Assert.Equal(new CropRegion(10, 34, 40, 64), new CropRegion(10, 50, 40, 60).ExpandToRatio(64, 64, 64, 64));
    }

    [Fact]
    public void ExpandToRatio_OddDifference_PutsTheExtraPixelAfter_AndShiftsFromAbove()
    {
        // 5×2 at 1:1: diff 3, y1 0−1 = −1, y2 2+2 = 4; y1 < 0 so y2 4+1 = 5, y1 0.
        Assert.Equal(new CropRegion(0, 0, 5, 5), new CropRegion(0, 0, 5, 2).ExpandToRatio(512, 512, 64, 64));
    }

    [Fact]
    public void ExpandToRatio_TallRegion_GrowsItsWidth_AndIsClippedWhereTheImageIsTooSmall()
    {
        // 52×52 at 64×32 (ratio 2 > 1): desired width 104, diff 52: x −26 .. 78; x1 < 0: 0 .. 104; 104 ≥ 100: 0 .. 100.
        Assert.Equal(new CropRegion(0, 0, 100, 52), new CropRegion(0, 0, 52, 52).ExpandToRatio(64, 32, 100, 100));
    }

    [Fact]
    public void ExpandToRatio_TruncatesTheDesiredSize_AsPythonsInt()
    {
        // 10×10 at 3:2: desired width 15, diff 5: x1 20−2 = 18, x2 30+3 = 33.
        // 10×7 at 4:3: ratio 10/7 = 1.43 > 1.33: desired height 7.5, diff int(0.5) = 0: unchanged.
        Assert.Equal(new CropRegion(18, 20, 33, 30), new CropRegion(20, 20, 30, 30).ExpandToRatio(96, 64, 64, 64));
        Assert.Equal(new CropRegion(20, 20, 30, 27), new CropRegion(20, 20, 30, 27).ExpandToRatio(64, 48, 64, 64));
    }
}
