using System.CommandLine;
using DiffusionCli.Commands;
using DiffusionEngine.Models;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Runtime;
using DiffusionEngine.Tests.TinyModel;

namespace DiffusionEngine.Tests.Cli;

/// <summary>The <c>create-tiny-model</c> command writes each preset's kind, with the options it names.</summary>
public sealed class CreateTinyModelCommandTests
{
    private static int Run(params string[] args) => new RootCommand { CreateTinyModelCommand.Create() }.Parse(["create-tiny-model", .. args]).Invoke();

    [Theory]
    [InlineData("tiny", ModelKind.StableDiffusion)]
    [InlineData("tiny-sdxl", ModelKind.StableDiffusionXL)]
    [InlineData("tiny-inpaint", ModelKind.StableDiffusionInpaint)]
    [InlineData("tiny-lcm", ModelKind.LatentConsistency)]
    public void CreateTinyModel_WritesAModelOfThePresetsKind(string preset, ModelKind kind)
    {
        using var directory = new TemporaryDirectory();

        Assert.Equal(0, Run("--out", directory.Path, "--preset", preset));

        using var pipeline = DiffusionPipeline.Load(directory.Path, new PipelineOptions { ExecutionProvider = ExecutionProviderKind.Cpu });
        Assert.Equal(kind, pipeline.Model.Kind);
    }

    [Fact]
    public void CreateTinyModel_WithHiddenStatesAndLatentParameters_ExportsThem()
    {
        using var directory = new TemporaryDirectory();

        Assert.Equal(0, Run("--out", directory.Path, "--hidden-states", "--vae-encoder", "latent_parameters"));

        var inspection = ModelInspector.Inspect(directory.Path);
        var textEncoder = inspection.Components.Single(c => c.Name == "text_encoder");
        Assert.Equal(["last_hidden_state", "pooler_output", "hidden_states.0", "hidden_states.1", "hidden_states.2"], textEncoder.Outputs.Select(o => o.Name));
        var encoder = inspection.Components.Single(c => c.Name == "vae_encoder");
        Assert.Equal("latent_parameters", encoder.Outputs.Single().Name);
        Assert.Equal(8L, encoder.Outputs.Single().Shape[1]);
    }

    [Fact]
    public void CreateTinyModel_WithAnUnknownPreset_IsAParseError()
    {
        using var directory = new TemporaryDirectory();

        Assert.NotEqual(0, Run("--out", directory.Path, "--preset", "sd3"));
    }
}
