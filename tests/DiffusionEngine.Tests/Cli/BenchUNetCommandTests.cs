using System.CommandLine;
using DiffusionCli.Commands;
using DiffusionEngine.Tests.Pipelines;

namespace DiffusionEngine.Tests.Cli;

/// <summary>The <c>bench-unet</c> command's profile summary on the tiny model.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class BenchUNetCommandTests(TinyModelFixture models)
{
    [Fact]
    public void BenchUNet_WithProfile_WritesTheProfileAndPrintsTimePerOpType()
    {
        var directory = Path.Combine(Directory.CreateTempSubdirectory("bench-unet-").FullName, "profile");
        var output = new StringWriter();

        var exitCode = new RootCommand { BenchUNetCommand.Create() }
            .Parse(["bench-unet", "--model", models.DefaultModel, "--size", "64", "--calls", "2", "--threads", "1", "--profile", directory])
            .Invoke(new InvocationConfiguration { Output = output });

        Assert.Equal(0, exitCode);
        var profile = Assert.Single(Directory.GetFiles(directory, "unet*.json"));
        var text = output.ToString();
        Assert.Contains($"Profile {profile}: 1 call(s) summed, 1 left out", text);
        Assert.Contains("| op type | nodes | ms/call | share of kernel time | ms/call, each node's fastest | GFLOP/call | GFLOP/s | GFLOP/s, fastest |", text);
        Assert.Matches(@"\| Conv \| \d+ \| [\d.]+ \| [\d.]+ % \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \|", text);
        Assert.Contains("Ops with FLOPs (", text);
    }

    [Fact]
    public void BenchUNet_WithProfileAndReference_IsRejectedNamingBothOptions()
    {
        var directory = Directory.CreateTempSubdirectory("bench-unet-").FullName;
        var error = new StringWriter();

        var exitCode = new RootCommand { BenchUNetCommand.Create() }
            .Parse(["bench-unet", "--model", models.DefaultModel, "--reference", models.DefaultModel, "--profile", directory])
            .Invoke(new InvocationConfiguration { Output = new StringWriter(), Error = error });

        Assert.NotEqual(0, exitCode);
        Assert.Contains("--profile times the UNet calls: it cannot be combined with --reference or --ort-cache", error.ToString());
        Assert.Empty(Directory.GetFiles(directory));
    }
}
