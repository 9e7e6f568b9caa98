using DiffusionEngine.Imaging;

namespace DiffusionEngine.Tests.Imaging;

/// <summary>A1111's uncrop + apply_overlay: the generated crop goes back into the original through the mask.</summary>
public sealed class InpaintPasteTests
{
    [Fact]
    public void Apply_KeepsTheOriginalWhereTheMaskKeeps_AndTakesTheGeneratedImageWhereItRepaints()
    {
        // An 8×8 grey original; the mask repaints (3..5, 3..5) fully and (2, 3) by half; the crop is (2, 2)–(6, 6).
        var original = new byte[8 * 8 * 4];
        Array.Fill(original, (byte)100);
        var mask = new float[8 * 8];
        for (var y = 3; y < 5; y++)
        {
            for (var x = 3; x < 5; x++) mask[y * 8 + x] = 1f;
        }
        mask[3 * 8 + 2] = 0.5f;
        var generated = new byte[2 * 2 * 3];
        Array.Fill(generated, (byte)200); // generated at 2×2, resized to the 4×4 crop

        var rgb = InpaintPaste.Apply(generated, 2, 2, new RgbaImage(8, 8, original), mask, new CropRegion(2, 2, 6, 6));

        Assert.Equal(8 * 8 * 3, rgb.Length);
        for (var y = 0; y < 8; y++)
        {
            for (var x = 0; x < 8; x++)
            {
                var expected = mask[y * 8 + x] switch
                {
                    1f => 200,
                    0.5f => (100 * 127 + 200 * 128 + 127) / 255, // alpha 255 − round(127.5) = 127 of the original
                    _ => 100,
                };
                Assert.Equal((byte)expected, rgb[3 * (y * 8 + x)]);
            }
        }
    }
}
