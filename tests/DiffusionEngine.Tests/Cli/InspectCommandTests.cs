using System.CommandLine;
using System.Text.Json.Nodes;
using DiffusionCli.Commands;
using DiffusionEngine.Tests.Pipelines;
using DiffusionEngine.TinyModel;

namespace DiffusionEngine.Tests.Cli;

/// <summary>The <c>inspect</c> command: the model's kind, capabilities, defaults and components' I/O as JSON, also for a folder that does not load.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class InspectCommandTests(TinyModelFixture models)
{
    private static (int ExitCode, JsonObject Json) Run(string model)
    {
        var output = new StringWriter();
        var exitCode = new RootCommand { InspectCommand.Create() }.Parse(["inspect", "--model", model]).Invoke(new InvocationConfiguration { Output = output });
        return (exitCode, JsonNode.Parse(output.ToString())!.AsObject());
    }

    [Fact]
    public void Inspect_ATinySdxlModel_PrintsKindCapabilitiesDefaultsAndEveryComponentsInputsAndOutputs()
    {
        var (exitCode, json) = Run(models.ModelFor(new TinyModelOptions { Preset = TinyModelPreset.TinySdxl }));

        Assert.Equal(0, exitCode);
        Assert.Equal("sdxl", (string?)json["kind"]);
        Assert.Equal(["txt2img", "img2img", "inpaint"], json["capabilities"]!.AsArray().Select(c => (string?)c));
        Assert.Equal("""{"width":256,"height":256,"steps":20,"guidance":5,"scheduler":"euler"}""", json["defaults"]!.ToJsonString());
        Assert.Equal(["text_encoder", "text_encoder_2", "unet", "vae_decoder", "vae_encoder"], json["components"]!.AsObject().Select(c => c.Key));
        var unetInputs = json["components"]!["unet"]!["inputs"]!.AsArray();
        Assert.Equal(["sample", "timestep", "encoder_hidden_states", "text_embeds", "time_ids"], unetInputs.Select(i => (string?)i!["name"]));
        Assert.Equal("""{"name":"time_ids","type":"float32","shape":["batch_size",6]}""", unetInputs[4]!.ToJsonString());
        Assert.Null(json["error"]);
    }

    [Fact]
    public void Inspect_AFolderThatDoesNotLoad_StillListsTheComponents_WithTheErrorAndExitCodeOne()
    {
        var model = models.CopyOfDefaultModel();
        var index = Path.Combine(model, "model_index.json");
        File.WriteAllText(index, File.ReadAllText(index).Replace("OnnxStableDiffusionPipeline", "StableDiffusionUpscalePipeline"));

        var (exitCode, json) = Run(model);

        Assert.Equal(1, exitCode);
        Assert.Null(json["kind"]);
        Assert.Empty(json["capabilities"]!.AsArray());
        Assert.Contains("'StableDiffusionUpscalePipeline' is not a pipeline this engine serves", (string?)json["error"]);
        Assert.Equal("input_ids", (string?)json["components"]!["text_encoder"]!["inputs"]![0]!["name"]);
    }
}
