using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using DiffusionCli.Commands;

namespace DiffusionEngine.Tests.Cli;

/// <summary>The <c>bench-gemm</c> command: one MatMul model written and timed in ONNX Runtime.</summary>
public sealed class BenchGemmCommandTests
{
    private static (int ExitCode, string Output) Run(params string[] args)
    {
        var output = new StringWriter();
        var exitCode = new RootCommand { BenchGemmCommand.Create() }.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = new StringWriter() });
        return (exitCode, output.ToString());
    }

    [Fact]
    public void BenchGemm_PrintsTheShapeAndARateConsistentWithItsFastestCall()
    {
        var (exitCode, output) = Run("bench-gemm", "--m", "96", "--k", "64", "--n", "48", "--calls", "2", "--threads", "1");

        Assert.Equal(0, exitCode);
        var row = Regex.Match(output, @"^\| 96×64×48 \| CPU \| 1 \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|", RegexOptions.Multiline);
        Assert.True(row.Success, output);
        var rate = double.Parse(row.Groups[3].Value, CultureInfo.InvariantCulture);
        Assert.True(rate > 0, output);
    }

    [Fact]
    public void BenchGemm_WithAZeroDimension_ExitsWithOne()
    {
        Assert.Equal(1, Run("bench-gemm", "--m", "0").ExitCode);
    }

    [Fact]
    public void BenchGemm_WithMatricesOverOneGibibyte_ExitsWithOneBeforeAllocating()
    {
        Assert.Equal(1, Run("bench-gemm", "--m", "65536", "--k", "65536", "--n", "1").ExitCode);
    }
}
