using System.CommandLine;
using System.Text;
using DiffusionCli.Commands;
using DiffusionEngine.Imaging;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Tests.Pipelines;

namespace DiffusionEngine.Tests.Cli;

/// <summary>The <c>generate</c> command end to end on the tiny model: an image file with the infotext, or exit code 1 with the reason.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class GenerateCommandTests(TinyModelFixture models)
{
    private static int Run(params string[] args) =>
        new RootCommand { GenerateCommand.Create() }.Parse(["generate", .. args]).Invoke();

    [Fact]
    public void Generate_WritesAPngCarryingTheParameters()
    {
        var output = Path.Combine(models.CopyOfDefaultModel(), "out", "fox.png");

        var exitCode = Run("--model", models.DefaultModel, "--prompt", "a red fox", "--width", "64", "--height", "64", "--steps", "2",
            "--seed", "5", "--scheduler", "euler_a", "--provider", "cpu", "--out", output);

        Assert.Equal(0, exitCode);
        var png = File.ReadAllBytes(output);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        var text = Encoding.Latin1.GetString(png);
        Assert.Contains("parameters\0a red fox\nSteps: 2, Sampler: Euler a, CFG scale: 7.5, Seed: 5, Size: 64x64", text);
    }

    [Fact]
    public void Generate_WithClipSkipAndEmphasis_OnAModelWithHiddenStates_RecordsThemInTheInfotext()
    {
        var model = models.ModelFor(new DiffusionEngine.TinyModel.TinyModelOptions { TextEncoderHiddenStates = true });
        var output = Path.Combine(models.CopyOfDefaultModel(), "skip.png");

        var exitCode = Run("--model", model, "--prompt", "a (red:1.3) fox", "--width", "64", "--height", "64", "--steps", "2", "--seed", "5",
            "--clip-skip", "2", "--emphasis", "no_norm", "--provider", "cpu", "--out", output);

        Assert.Equal(0, exitCode);
        var text = Encoding.Latin1.GetString(File.ReadAllBytes(output));
        Assert.Contains("Model: " + Path.GetFileName(model) + ", Clip skip: 2, RNG: CPU, Emphasis: No norm", text);
    }

    [Theory]
    [InlineData("--clip-skip", "2", "error: request 0: clip_skip 2 is not available for this model: its text_encoder was exported without the 'hidden_states.N' outputs")]
    [InlineData("--max-chunks", "1", "error: the prompt needs 2 chunks of 75 tokens but at most 1 are allowed (MaxPromptChunks)")]
    public void Generate_BeyondWhatTheModelOrTheLimitAllows_ExitsWithOneSayingWhy(string option, string value, string expected)
    {
        var errors = new StringWriter();

        var exitCode = new RootCommand { GenerateCommand.Create() }
            .Parse(["generate", "--model", models.DefaultModel, "--prompt", PromptConditioningTests.Long(6), option, value, "--width", "64", "--height", "64",
                "--provider", "cpu", "--out", Path.Combine(Path.GetTempPath(), "never.png")])
            .Invoke(new InvocationConfiguration { Error = errors });

        Assert.Equal(1, exitCode);
        Assert.StartsWith(expected, errors.ToString());
    }

    [Theory]
    [InlineData("jpeg", new byte[] { 0xFF, 0xD8 })]
    [InlineData("webp", new byte[] { (byte)'R', (byte)'I', (byte)'F', (byte)'F' })]
    public void Generate_WritesTheRequestedFormat(string format, byte[] signature)
    {
        var output = Path.Combine(models.CopyOfDefaultModel(), $"image.{format}");

        var exitCode = Run("--model", models.DefaultModel, "--prompt", "a red fox", "--width", "64", "--height", "64", "--steps", "2",
            "--format", format, "--provider", "cpu", "--out", output);

        Assert.Equal(0, exitCode);
        Assert.Equal(signature, File.ReadAllBytes(output)[..signature.Length]);
    }

    [Fact]
    public void Generate_WithAnInvalidWidth_ExitsWithOneAndWritesNothing()
    {
        var output = Path.Combine(models.CopyOfDefaultModel(), "never.png");

        var exitCode = Run("--model", models.DefaultModel, "--prompt", "x", "--width", "500", "--provider", "cpu", "--out", output);

        Assert.Equal(1, exitCode);
        Assert.False(File.Exists(output));
    }

    [Theory]
    [InlineData("--width", "500", "error: width must be a multiple of 8 but was 500")]
    [InlineData("--scheduler", "foo", "but was 'foo'")]
    public void Generate_WithAnInvalidValue_PrintsTheEngineMessageWithoutTheCSharpParameterName(string option, string value, string expected)
    {
        var errors = new StringWriter();

        var exitCode = new RootCommand { GenerateCommand.Create() }
            .Parse(["generate", "--model", models.DefaultModel, "--prompt", "x", option, value, "--provider", "cpu", "--out", Path.Combine(Path.GetTempPath(), "never.png")])
            .Invoke(new InvocationConfiguration { Error = errors });

        Assert.Equal(1, exitCode);
        var message = errors.ToString().TrimEnd();
        Assert.Contains(expected, message);
        Assert.DoesNotContain("(Parameter '", message);
    }

    [Fact]
    public void Generate_WithAnInitImageAndAMask_InpaintsAtTheImagesSize_KeepingTheUnmaskedPixels()
    {
        var folder = models.CopyOfDefaultModel();
        var init = TestImages.Gradient(72, 48);
        var initPath = Path.Combine(folder, "init.png");
        var maskPath = Path.Combine(folder, "mask.png");
        File.WriteAllBytes(initPath, ImageEncoder.Encode(new GeneratedImage(new GenerationRequest { Prompt = "x" }, 72, 48, TestImages.Rgb(init)), ImageFormat.Png));
        var mask = TestImages.RectangleMask(72, 48, 8, 8, 32, 24);
        File.WriteAllBytes(maskPath, ImageEncoder.Encode(new GeneratedImage(new GenerationRequest { Prompt = "x" }, 72, 48, TestImages.Rgb(mask)), ImageFormat.Png));
        var output = Path.Combine(folder, "out.png");

        var exitCode = Run("--model", models.DefaultModel, "--prompt", "a red fox", "--init-image", initPath, "--mask", maskPath, "--steps", "4",
            "--scheduler", "euler", "--seed", "3", "--provider", "cpu", "--out", output);

        Assert.Equal(0, exitCode);
        var image = ImageDecoder.Decode(File.ReadAllBytes(output));
        Assert.Equal((72, 48), (image.Width, image.Height)); // the init image's size (a multiple of 8 already)
        Assert.Equal(0, TestImages.MaxDifference(TestImages.Rgb(image), init, (x, y) => x < 8 || x >= 32 || y < 8 || y >= 24));
        var text = Encoding.Latin1.GetString(File.ReadAllBytes(output));
        Assert.Contains("Denoising strength: 1, Mask blur: 0", text);
    }

    [Fact]
    public void Generate_WithAnInitImageAndAStrengthThatLeavesNoStep_ExitsWithOneSayingSo()
    {
        var folder = models.CopyOfDefaultModel();
        var initPath = Path.Combine(folder, "init.png");
        File.WriteAllBytes(initPath, ImageEncoder.Encode(new GeneratedImage(new GenerationRequest { Prompt = "x" }, 64, 64, TestImages.Rgb(TestImages.Gradient(64, 64))), ImageFormat.Png));
        var errors = new StringWriter();

        var exitCode = new RootCommand { GenerateCommand.Create() }
            .Parse(["generate", "--model", models.DefaultModel, "--prompt", "x", "--init-image", initPath, "--strength", "0.01", "--steps", "10",
                "--provider", "cpu", "--out", Path.Combine(folder, "never.png")])
            .Invoke(new InvocationConfiguration { Error = errors });

        Assert.Equal(1, exitCode);
        Assert.Contains("error: strength 0.01 with 10 steps leaves no denoising step to run", errors.ToString());
    }

    [Fact]
    public void Generate_WithAnInitImageThatIsNotAnImage_NamesTheOption()
    {
        var folder = models.CopyOfDefaultModel();
        var initPath = Path.Combine(folder, "init.png");
        File.WriteAllText(initPath, "not a png");
        var errors = new StringWriter();

        var exitCode = new RootCommand { GenerateCommand.Create() }
            .Parse(["generate", "--model", models.DefaultModel, "--prompt", "x", "--init-image", initPath, "--provider", "cpu", "--out", Path.Combine(folder, "never.png")])
            .Invoke(new InvocationConfiguration { Error = errors });

        Assert.Equal(1, exitCode);
        Assert.Contains($"error: --init-image {initPath}: the bytes are not a PNG, JPEG or WebP image", errors.ToString());
    }

    [Fact]
    public void Generate_WithoutSizeOrSteps_UsesTheModelsDefaults()
    {
        var output = Path.Combine(models.CopyOfDefaultModel(), "default.png");

        var exitCode = Run("--model", models.DefaultModel, "--prompt", "a red fox", "--steps", "1", "--scheduler", "euler", "--provider", "cpu", "--out", output);

        Assert.Equal(0, exitCode);
        var text = Encoding.Latin1.GetString(File.ReadAllBytes(output));
        Assert.Contains("CFG scale: 7.5", text);
        Assert.Contains("Size: 256x256", text); // the tiny model's native size (sample_size 32)
    }

    [Fact]
    public void Generate_WithAMissingModelFolder_ExitsWithOne()
    {
        var exitCode = Run("--model", Path.Combine(Path.GetTempPath(), "no-model-" + Guid.NewGuid().ToString("N")), "--prompt", "x",
            "--out", Path.Combine(Path.GetTempPath(), "never.png"));

        Assert.Equal(1, exitCode);
    }
}
