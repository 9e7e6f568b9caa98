using DiffusionEngine.Models;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Runtime;
using DiffusionEngine.Tests.Pipelines;

namespace DiffusionEngine.Tests.Models;

/// <summary>Every way a model folder can be unusable gets a <see cref="ModelLoadException"/> naming the file and the problem.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class ModelFolderErrorTests(TinyModelFixture models)
{
    private static readonly PipelineOptions Cpu = new() { ExecutionProvider = ExecutionProviderKind.Cpu };

    [Fact]
    public void Open_WhenFolderDoesNotExist_NamesTheFolder()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-model-" + Guid.NewGuid().ToString("N"));

        var error = Assert.Throws<ModelLoadException>(() => ModelFolder.Open(missing));

        Assert.Equal(missing, error.FilePath);
        Assert.Contains("does not exist", error.Message);
    }

    [Theory]
    [InlineData("model_index.json", "model_index.json is missing")]
    [InlineData("scheduler/scheduler_config.json", "scheduler component is missing")]
    [InlineData("text_encoder/model.onnx", "text_encoder component is missing")]
    [InlineData("unet/model.onnx", "unet component is missing")]
    [InlineData("vae_decoder/model.onnx", "vae_decoder component is missing")]
    public void Open_WhenAComponentFileIsMissing_NamesTheFile(string relativePath, string problem)
    {
        var model = models.CopyOfDefaultModel();
        var path = Path.Combine(model, relativePath);
        File.Delete(path);

        var error = Assert.Throws<ModelLoadException>(() => ModelFolder.Open(model));

        Assert.Equal(path, error.FilePath);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void Open_WhenTokenizerFolderIsMissing_NamesIt()
    {
        var model = models.CopyOfDefaultModel();
        Directory.Delete(Path.Combine(model, "tokenizer"), recursive: true);

        var error = Assert.Throws<ModelLoadException>(() => ModelFolder.Open(model));

        Assert.Equal(Path.Combine(model, "tokenizer"), error.FilePath);
        Assert.Contains("tokenizer component is missing", error.Message);
    }

    [Theory]
    [InlineData("model_index.json")]
    [InlineData("scheduler/scheduler_config.json")]
    [InlineData("vae_decoder/config.json")]
    public void Open_WhenJsonIsMalformed_NamesTheFile(string relativePath)
    {
        var model = models.CopyOfDefaultModel();
        var path = Path.Combine(model, relativePath);
        File.WriteAllText(path, "{ \"_class_name\": \"PNDMScheduler\", ");

        var error = Assert.Throws<ModelLoadException>(() => ModelFolder.Open(model));

        Assert.Equal(path, error.FilePath);
        Assert.Contains("malformed JSON", error.Message);
    }

    [Fact]
    public void Open_WhenScalingFactorIsNotAPositiveNumber_SaysWhatItWas()
    {
        var model = models.CopyOfDefaultModel();
        var path = Path.Combine(model, "vae_decoder", "config.json");
        File.WriteAllText(path, """{ "scaling_factor": "big" }""");

        var error = Assert.Throws<ModelLoadException>(() => ModelFolder.Open(model));

        Assert.Equal(path, error.FilePath);
        Assert.Contains("scaling_factor must be a positive number but was \"big\"", error.Message);
    }

    [Fact]
    public void Open_WhenVaeConfigIsAbsent_UsesTheSd1ScalingFactor()
    {
        var model = models.CopyOfDefaultModel();
        File.Delete(Path.Combine(model, "vae_decoder", "config.json"));

        Assert.Equal(0.18215f, ModelFolder.Open(model).VaeScalingFactor);
    }

    [Fact]
    public void Open_ReadsTheDefaultModelsLayout()
    {
        var folder = ModelFolder.Open(models.DefaultModel);

        Assert.Equal(Path.Combine(models.DefaultModel, "unet", "model.onnx"), folder.UNetPath);
        Assert.NotNull(folder.VaeEncoderPath);
        Assert.True(folder.VaeScalingFactor > 0);
    }

    [Theory]
    [InlineData("text_encoder/model.onnx")]
    [InlineData("unet/model.onnx")]
    [InlineData("vae_decoder/model.onnx")]
    public void Load_WhenAnOnnxFileIsNotOnnx_NamesTheFile(string relativePath)
    {
        var model = models.CopyOfDefaultModel();
        var path = Path.Combine(model, relativePath);
        File.WriteAllText(path, "this is not a protobuf model");

        var error = Assert.Throws<ModelLoadException>(() => DiffusionPipeline.Load(model, Cpu));

        Assert.Equal(path, error.FilePath);
        Assert.Contains("could not load it as an ONNX model", error.Message);
        Assert.IsAssignableFrom<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>(error.InnerException);
    }

    [Fact]
    public void Load_WhenVocabularyDoesNotMatchMerges_ReportsTheTokenizerFile()
    {
        var model = models.CopyOfDefaultModel();
        var merges = Path.Combine(model, "tokenizer", "merges.txt");
        File.AppendAllText(merges, "zzqx\u00e9 qqq\u00e8\n");

        var error = Assert.Throws<ModelLoadException>(() => DiffusionPipeline.Load(model, Cpu));

        Assert.StartsWith(Path.Combine(model, "tokenizer"), error.FilePath);
    }
}
