using System.CommandLine;
using System.Globalization;
using DiffusionEngine.Imaging;

namespace DiffusionCli.Commands;

/// <summary>
/// <c>diffusion compare-images A B [--min-psnr DB]</c>: prints the PSNR (dB) and largest channel difference of two
/// images of the same size; exits 2 when the PSNR is below <c>--min-psnr</c> (bench/gpu.sh's CUDA-vs-CPU check).
/// </summary>
public static class CompareImagesCommand
{
    public static Command Create()
    {
        var first = new Argument<FileInfo>("first") { Description = "An image (PNG, JPEG or WebP)" };
        var second = new Argument<FileInfo>("second") { Description = "An image of the same size" };
        var minimum = new Option<double>("--min-psnr") { Description = "Fail (exit 2) below this PSNR in dB", DefaultValueFactory = _ => 0 };
        var command = new Command("compare-images", "PSNR and largest channel difference of two images") { first, second, minimum };
        command.SetAction(parseResult =>
        {
            try
            {
                var difference = ImageDifference.Compare(parseResult.GetValue(first)!.FullName, parseResult.GetValue(second)!.FullName);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"psnr_db={difference.PsnrDecibels:F2} max_channel_difference={difference.MaxChannelDifference}"));
                return difference.PsnrDecibels >= parseResult.GetValue(minimum) ? 0 : 2;
            }
            catch (ArgumentException ex)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return 1;
            }
        });
        return command;
    }
}
