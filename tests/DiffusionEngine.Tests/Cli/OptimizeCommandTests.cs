using System.CommandLine;
using DiffusionCli.Commands;
using DiffusionEngine.Optimization;
using DiffusionEngine.Tests.Pipelines;

namespace DiffusionEngine.Tests.Cli;

/// <summary>The <c>optimize</c> and <c>compare-images</c> commands end to end on the tiny model.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class OptimizeCommandTests(TinyModelFixture models)
{
    private static int Run(params string[] args) =>
        new RootCommand { OptimizeCommand.Create(), CompareImagesCommand.Create(), GenerateCommand.Create() }.Parse(args).Invoke();

    [Fact]
    public void Optimize_WritesTheOptimisedFolderAndItsReport()
    {
        var output = Path.Combine(models.CopyOfDefaultModel(), "optimized");

        Assert.Equal(0, Run("optimize", "--model", models.DefaultModel, "--out", output, "--fp16"));

        Assert.True(File.Exists(Path.Combine(output, "unet", "model.onnx")));
        Assert.True(File.Exists(Path.Combine(output, "tokenizer", "vocab.json")));
        var report = File.ReadAllText(Path.Combine(output, ModelOptimizer.ReportFileName));
        Assert.Contains("\"options\": \"cpu-fp16\"", report);
        Assert.Contains("MultiHeadAttention (self)", report);
    }

    [Fact]
    public void Optimize_OfAFolderThatIsNoModel_ExitsWithOne()
    {
        var empty = Directory.CreateTempSubdirectory("not-a-model-").FullName;
        Assert.Equal(1, Run("optimize", "--model", empty, "--out", empty + "-out"));
    }

    [Fact]
    public void CompareImages_OfTheOptimisedModelsImage_PassesAFortyDecibelFloor()
    {
        var folder = models.CopyOfDefaultModel();
        var optimized = Path.Combine(folder, "optimized");
        Assert.Equal(0, Run("optimize", "--model", models.DefaultModel, "--out", optimized));
        string[] common = ["--prompt", "a red fox", "--width", "64", "--height", "64", "--steps", "4", "--seed", "9", "--provider", "cpu"];
        Assert.Equal(0, Run(["generate", "--model", models.DefaultModel, .. common, "--out", Path.Combine(folder, "a.png")]));
        Assert.Equal(0, Run(["generate", "--model", optimized, .. common, "--out", Path.Combine(folder, "b.png")]));

        Assert.Equal(0, Run("compare-images", Path.Combine(folder, "a.png"), Path.Combine(folder, "b.png"), "--min-psnr", "40"));
        string[] otherSeed = [.. common[..^3], "10", "--provider", "cpu"];
        Assert.Equal(0, Run(["generate", "--model", models.DefaultModel, .. otherSeed, "--out", Path.Combine(folder, "c.png")]));
        Assert.Equal(2, Run("compare-images", Path.Combine(folder, "a.png"), Path.Combine(folder, "c.png"), "--min-psnr", "40"));
    }
}
