using DiffusionEngine.Models;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Runtime;
using DiffusionEngine.Tests.Pipelines;
using static DiffusionEngine.Tests.TestSupport.OnnxTestModel;

namespace DiffusionEngine.Tests.Models;

/// <summary>
/// A model whose tensors have a type or rank the pipeline cannot adapt is rejected at load time with the file,
/// the tensor, what was found and what is supported.
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class TensorMetadataErrorTests(TinyModelFixture models)
{
    private static readonly PipelineOptions Cpu = new() { ExecutionProvider = ExecutionProviderKind.Cpu };

    private static readonly Tensor Sample = new("sample", OnnxFloat, "batch", 4, "height", "width");
    private static readonly Tensor Timestep = new("timestep", OnnxInt64, "batch");
    private static readonly Tensor HiddenStates = new("encoder_hidden_states", OnnxFloat, "batch", 77, 32);

    [Fact]
    public void Load_WhenTimestepIsInt32_NamesTensorTypeAndSupportedTypes()
    {
        var error = LoadWithUNet(Sample, Timestep with { ElementType = OnnxInt32 }, HiddenStates);

        Assert.Contains("unet input 'timestep' is int32 [batch]", error.Message);
        Assert.Contains("supported: int64 [batch], float32 [] (scalar)", error.Message);
    }

    [Fact]
    public void Load_WhenTimestepHasRankTwo_IsRejected()
    {
        var error = LoadWithUNet(Sample, new Tensor("timestep", OnnxInt64, "batch", 1), HiddenStates);

        Assert.Contains("'timestep' is int64 [batch, 1]", error.Message);
    }

    [Fact]
    public void Load_WhenSampleHasRankThree_NamesFoundShape()
    {
        var error = LoadWithUNet(new Tensor("sample", OnnxFloat, "batch", 4, 4096), Timestep, HiddenStates);

        Assert.Contains("unet input 'sample' is float32 [batch, 4, 4096]", error.Message);
        Assert.Contains("float32 or float16 [batch, 4, height/8, width/8]", error.Message);
    }

    [Fact]
    public void Load_WhenSampleIsFloat64_IsRejected()
    {
        var error = LoadWithUNet(Sample with { ElementType = OnnxDouble }, Timestep, HiddenStates);

        Assert.Contains("'sample' is float64", error.Message);
    }

    [Fact]
    public void Load_WhenUNetWantsAnInputWeDoNotFeed_NamesIt()
    {
        var error = LoadWithUNet(Sample, Timestep, HiddenStates, new Tensor("text_embeds", OnnxFloat, "batch", 1280));

        Assert.Contains("input 'text_embeds'", error.Message);
    }

    [Fact]
    public void Load_WhenUNetLacksAnInput_ListsTheInputsItHas()
    {
        var error = LoadWithUNet(Sample, HiddenStates);

        Assert.Contains("has no input 'timestep' (its inputs are: sample, encoder_hidden_states)", error.Message);
    }

    [Fact]
    public void Load_WhenInputIdsAreFloat_NamesTheTextEncoderFile()
    {
        var model = models.CopyOfDefaultModel();
        var path = Path.Combine(model, "text_encoder", "model.onnx");
        WriteIdentity(path, "last_hidden_state", new Tensor("input_ids", OnnxFloat, "batch", 77));

        var error = Assert.Throws<ModelLoadException>(() => DiffusionPipeline.Load(model, Cpu));

        Assert.Equal(path, error.FilePath);
        Assert.Contains("text_encoder input 'input_ids' is float32 [batch, 77]", error.Message);
        Assert.Contains("int32 or int64", error.Message);
    }

    [Fact]
    public void Load_WhenVaeLatentIsInt64_NamesTheVaeFile()
    {
        var model = models.CopyOfDefaultModel();
        var path = Path.Combine(model, "vae_decoder", "model.onnx");
        WriteIdentity(path, "sample", new Tensor("latent_sample", OnnxInt64, "batch", 4, "h", "w"));

        var error = Assert.Throws<ModelLoadException>(() => DiffusionPipeline.Load(model, Cpu));

        Assert.Equal(path, error.FilePath);
        Assert.Contains("vae_decoder input 'latent_sample' is int64", error.Message);
    }

    private ModelLoadException LoadWithUNet(params Tensor[] inputs)
    {
        var model = models.CopyOfDefaultModel();
        var path = Path.Combine(model, "unet", "model.onnx");
        WriteIdentity(path, "out_sample", inputs);
        var error = Assert.Throws<ModelLoadException>(() => DiffusionPipeline.Load(model, Cpu));
        Assert.Equal(path, error.FilePath);
        return error;
    }
}
