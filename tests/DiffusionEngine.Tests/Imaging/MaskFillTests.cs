using DiffusionEngine.Imaging;

namespace DiffusionEngine.Tests.Imaging;

/// <summary>A1111's inpainting_fill 0: the masked area takes the colours around it, the kept pixels stay exactly.</summary>
public sealed class MaskFillTests
{
    private const int Size = 32;

    // Left half red, right half blue.
    private static RgbaImage RedBlue()
    {
        var pixels = new byte[Size * Size * 4];
        for (var p = 0; p < Size * Size; p++)
        {
            var red = p % Size < Size / 2;
            pixels[4 * p] = red ? (byte)255 : (byte)0;
            pixels[4 * p + 2] = red ? (byte)0 : (byte)255;
            pixels[4 * p + 3] = 255;
        }
        return new RgbaImage(Size, Size, pixels);
    }

    private static bool InHole(int x, int y) => y is >= 12 and < 18 && (x is >= 4 and < 10 || x is >= 22 and < 28);

    [Fact]
    public void Fill_KeepsUnmaskedPixels_AndPaintsHolesWithTheirSurroundings()
    {
        var image = RedBlue();
        var mask = new float[Size * Size];
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++) mask[y * Size + x] = InHole(x, y) ? 1f : 0f;
        }
        // Something unlike either side under the holes, which the fill must not keep.
        var withGreen = (byte[])image.Pixels.Clone();
        for (var p = 0; p < Size * Size; p++)
        {
            if (mask[p] == 1f) (withGreen[4 * p], withGreen[4 * p + 1], withGreen[4 * p + 2]) = ((byte)0, (byte)255, (byte)0);
        }

        var filled = MaskFill.Fill(new RgbaImage(Size, Size, withGreen), mask);

        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                var p = 4 * (y * Size + x);
                var (r, g, b) = (filled.Pixels[p], filled.Pixels[p + 1], filled.Pixels[p + 2]);
                Assert.Equal((byte)255, filled.Pixels[p + 3]);
                if (!InHole(x, y))
                {
                    Assert.Equal((image.Pixels[p], image.Pixels[p + 1], image.Pixels[p + 2]), (r, g, b));
                    continue;
                }
                Assert.True(g < 30, $"({x}, {y}) kept the green under the mask: {(r, g, b)}");
                if (x < Size / 2) Assert.True(r > 200 && b < 60, $"({x}, {y}) in the red half filled with {(r, g, b)}");
                else Assert.True(b > 200 && r < 60, $"({x}, {y}) in the blue half filled with {(r, g, b)}");
            }
        }
    }

    [Fact]
    public void Fill_APartlyMaskedPixel_MixesTheOriginalIn()
    {
        var image = RedBlue();
        var mask = new float[Size * Size];
        mask[16 * Size + 5] = 0.5f;

        var filled = MaskFill.Fill(image, mask);

        // Its neighbours are red as it is: half of the original plus surroundings of the same colour.
        var p = 4 * (16 * Size + 5);
        Assert.InRange(filled.Pixels[p], (byte)250, (byte)255);
        Assert.InRange(filled.Pixels[p + 2], (byte)0, (byte)5);
    }
}
