using System.CommandLine;
using System.Text;
using DiffusionCli.Commands;
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
    public void Generate_WithAMissingModelFolder_ExitsWithOne()
    {
        var exitCode = Run("--model", Path.Combine(Path.GetTempPath(), "no-model-" + Guid.NewGuid().ToString("N")), "--prompt", "x",
            "--out", Path.Combine(Path.GetTempPath(), "never.png"));

        Assert.Equal(1, exitCode);
    }
}
