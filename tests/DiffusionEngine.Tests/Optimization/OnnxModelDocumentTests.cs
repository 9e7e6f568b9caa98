using DiffusionEngine.Models;
using DiffusionEngine.Optimization;
using DiffusionEngine.Tests.TinyModel;
using DiffusionEngine.TinyModel;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Tests.Optimization;

/// <summary>Reading and writing models with the optimizer's document: external data both ways, float16 on write.</summary>
public sealed class OnnxModelDocumentTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    [Fact]
    public void ExternalDataModel_SavedUnchanged_KeepsExternalDataAndComputesTheSame()
    {
        var model = Path.Combine(_directory.Path, "model");
        TinyModelBuilder.Write(model, new TinyModelOptions { ExternalData = true });
        var source = Path.Combine(model, "vae_decoder", "model.onnx");
        var copy = Path.Combine(_directory.Path, "copy", "model.onnx");

        var document = OnnxModelDocument.Load(source);
        Assert.True(document.HasExternalData);
        document.Save(copy);

        Assert.True(File.Exists(Path.Combine(_directory.Path, "copy", OnnxModelDocument.ExternalDataFileName)));
        Assert.True(OnnxModelDocument.Load(copy).HasExternalData);
        Assert.Equal(Decode(source), Decode(copy));
    }

    [Fact]
    public void ExternalDataModel_OptimisedToFloat16_HalvesTheWeightFileAndStaysClose()
    {
        var model = Path.Combine(_directory.Path, "model");
        var optimized = Path.Combine(_directory.Path, "optimized");
        TinyModelBuilder.Write(model, new TinyModelOptions { ExternalData = true });

        ModelOptimizer.Optimize(model, optimized, new OptimizationOptions { Float16 = true });

        var before = new FileInfo(Path.Combine(model, "vae_decoder", OnnxModelDocument.ExternalDataFileName)).Length;
        var after = new FileInfo(Path.Combine(optimized, "vae_decoder", OnnxModelDocument.ExternalDataFileName)).Length;
        Assert.InRange(after, before * 0.45, before * 0.6);
        var expected = Decode(Path.Combine(model, "vae_decoder", "model.onnx"));
        var actual = Decode(Path.Combine(optimized, "vae_decoder", "model.onnx"));
        Assert.True(expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second)) < 0.05);
    }

    [Fact]
    public void Save_OntoItsOwnSource_IsRefused()
    {
        var model = Path.Combine(_directory.Path, "model");
        TinyModelBuilder.Write(model, new TinyModelOptions());
        var path = Path.Combine(model, "unet", "model.onnx");
        Assert.Throws<ArgumentException>(() => OnnxModelDocument.Load(path).Save(path));
    }

    [Fact]
    public void Load_OfAFileThatIsNotOnnx_FailsNamingIt()
    {
        var path = Path.Combine(_directory.Path, "model.onnx");
        File.WriteAllBytes(path, [0xFF, 0xFF, 0xFF, 0x01, 0x02]);
        var error = Assert.Throws<ModelLoadException>(() => OnnxModelDocument.Load(path));
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Optimize_IntoItsOwnFolder_IsRefused()
    {
        var model = Path.Combine(_directory.Path, "model");
        TinyModelBuilder.Write(model, new TinyModelOptions());
        Assert.Throws<ArgumentException>(() => ModelOptimizer.Optimize(model, model + "/", new OptimizationOptions()));
    }

    private static float[] Decode(string path)
    {
        using var session = new InferenceSession(path);
        var latents = TinyModelRunner.GaussianLatents(1, 4, seed: 11);
        using var value = OrtValue.CreateTensorValueFromMemory(latents, [1, 4, 4, 4]);
        using var options = new RunOptions();
        using var outputs = session.Run(options, ["latent_sample"], [value], ["sample"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose() => _directory.Dispose();
}
