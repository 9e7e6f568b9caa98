using System.CommandLine;
using System.Text.Json;
using DiffusionCli.Commands;
using DiffusionEngine.Noise;

namespace DiffusionEngine.Tests.Cli;

public class NoiseCommandTests
{
    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var root = new RootCommand { NoiseCommand.Create() };
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = root.Parse(["noise", .. args]).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public void Noise_Gpu_PrintsOneJsonObjectWithFirst16Last8AndTheFnvHash()
    {
        var (exitCode, output, _) = Run("--rng", "gpu", "--seed", "0", "--shape", "4,64,64");

        Assert.Equal(0, exitCode);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal(["first", "last", "fnv1a64"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("9106944524394698214", root.GetProperty("fnv1a64").GetString());

        var expected = new float[4 * 64 * 64];
        new PhiloxNoise(0).Fill(expected);
        Assert.Equal(expected[..16], root.GetProperty("first").EnumerateArray().Select(v => v.GetSingle()));
        Assert.Equal(expected[^8..], root.GetProperty("last").EnumerateArray().Select(v => v.GetSingle()));
    }

    [Fact]
    public void Noise_CpuIsTheDefault_AndAShortShapePrintsWhatItHas()
    {
        var (exitCode, output, _) = Run("--seed", "0", "--shape", "5");

        Assert.Equal(0, exitCode);
        var expected = new float[5];
        new TorchCpuNoise(0).Fill(expected);
        Assert.Equal(NoiseCommand.FormatSummary(expected) + Environment.NewLine, output);
    }

    [Fact]
    public void FormatSummary_PrintsFloatsInShortestRoundTripForm()
    {
        Assert.Equal("{\"first\":[0.1,-2.5E-08],\"last\":[0.1,-2.5E-08],\"fnv1a64\":\"" +
                     Fnv1a64.Hash([0.1f, -2.5e-8f]) + "\"}",
            NoiseCommand.FormatSummary([0.1f, -2.5e-8f]));
    }

    [Theory]
    [InlineData("--rng", "tpu", "tpu")]
    [InlineData("--shape", "4,x,64", "4,x,64")]
    [InlineData("--shape", "0,64", "0,64")]
    public void Noise_BadRngOrShape_FailsWithAnErrorNamingTheValue(string option, string value, string named)
    {
        var (exitCode, output, error) = Run("--seed", "1", option, value);

        Assert.NotEqual(0, exitCode);
        Assert.Contains(named, error);
        Assert.DoesNotContain("fnv1a64", output);
    }
}
