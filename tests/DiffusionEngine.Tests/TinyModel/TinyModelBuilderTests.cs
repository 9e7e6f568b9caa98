using System.Text.Json;
using DiffusionEngine.Tests.TestSupport;
using DiffusionEngine.TinyModel;

namespace DiffusionEngine.Tests.TinyModel;

public sealed class TinyModelBuilderTests(DefaultTinyModelFixture model) : IClassFixture<DefaultTinyModelFixture>
{
    private static readonly string[] LayoutFiles =
    [
        "model_index.json",
        "scheduler/scheduler_config.json",
        "tokenizer/vocab.json",
        "tokenizer/merges.txt",
        "tokenizer/tokenizer_config.json",
        "tokenizer/special_tokens_map.json",
        "text_encoder/model.onnx",
        "text_encoder/config.json",
        "unet/model.onnx",
        "unet/config.json",
        "vae_decoder/model.onnx",
        "vae_decoder/config.json",
        "vae_encoder/model.onnx",
        "vae_encoder/config.json",
    ];

    [Fact]
    public void Write_ProducesEveryFileOfTheDiffusersOnnxLayout()
    {
        foreach (var file in LayoutFiles)
            Assert.True(File.Exists(Path.Combine(model.Path, file)), $"{file} missing");
        Assert.Empty(Directory.GetFiles(model.Path, "*.onnx_data", SearchOption.AllDirectories));
    }

    public static TheoryData<TinyModelOptions> OptionSets() =>
    [
        new TinyModelOptions(),
        new TinyModelOptions { DataType = ModelDataType.Float16, InputIds = InputIdsType.Int64, Timestep = TimestepInput.Float32Scalar, ExternalData = true },
        new TinyModelOptions { Preset = TinyModelPreset.TinySdxl, VaeEncoderOutput = VaeEncoderOutput.LatentParameters },
        new TinyModelOptions { Preset = TinyModelPreset.TinyInpaint, TextEncoderHiddenStates = true },
        new TinyModelOptions { Preset = TinyModelPreset.TinyLcm, DataType = ModelDataType.Float16 },
    ];

    [Theory]
    [MemberData(nameof(OptionSets))]
    public void Write_WithTheSameOptions_WritesByteIdenticalFiles(TinyModelOptions options)
    {
        using var first = new TemporaryDirectory();
        using var second = new TemporaryDirectory();
        TinyModelBuilder.Write(first.Path, options);
        TinyModelBuilder.Write(second.Path, options);

        var firstFiles = RelativeFiles(first.Path);
        Assert.Equal(firstFiles, RelativeFiles(second.Path));
        foreach (var file in firstFiles)
            Assert.True(File.ReadAllBytes(Path.Combine(first.Path, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(second.Path, file))),
                $"{file} differs between two writes with the same options");
    }

    [Fact]
    public void Write_WithExternalData_MovesWeightsIntoModelOnnxData_AndRewritingInlineRemovesIt()
    {
        var inline = model;
        using var external = new TemporaryDirectory();
        TinyModelBuilder.Write(external.Path, new TinyModelOptions { ExternalData = true });

        foreach (var component in new[] { "text_encoder", "unet", "vae_decoder", "vae_encoder" })
        {
            var inlineSize = new FileInfo(Path.Combine(inline.Path, component, "model.onnx")).Length;
            var graphSize = new FileInfo(Path.Combine(external.Path, component, "model.onnx")).Length;
            var dataSize = new FileInfo(Path.Combine(external.Path, component, TinyModelBuilder.ExternalDataFileName)).Length;
            Assert.True(graphSize < inlineSize / 4, $"{component}: model.onnx keeps {graphSize} of {inlineSize} bytes");
            Assert.True(dataSize > inlineSize / 2, $"{component}: model.onnx_data has only {dataSize} bytes");
        }

        TinyModelBuilder.Write(external.Path, new TinyModelOptions());
        Assert.Empty(Directory.GetFiles(external.Path, "*.onnx_data", SearchOption.AllDirectories));
        Assert.Equal(File.ReadAllBytes(Path.Combine(inline.Path, "unet", "model.onnx")), File.ReadAllBytes(Path.Combine(external.Path, "unet", "model.onnx")));
    }

    [Fact]
    public void Write_Float16_StoresHalfSizedWeights()
    {
        var single = model;
        using var half = new TemporaryDirectory();
        TinyModelBuilder.Write(half.Path, new TinyModelOptions { DataType = ModelDataType.Float16 });

        var singleSize = new FileInfo(Path.Combine(single.Path, "unet", "model.onnx")).Length;
        var halfSize = new FileInfo(Path.Combine(half.Path, "unet", "model.onnx")).Length;
        Assert.InRange(halfSize, singleSize * 45 / 100, singleSize * 60 / 100);
    }

    [Fact]
    public void Write_ConfigFiles_DescribeTheModelAsDiffusersWould()
    {
        var directory = model;

        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory.Path, "model_index.json")));
        Assert.Equal("PNDMScheduler", index.RootElement.GetProperty("scheduler")[1].GetString());
        foreach (var component in new[] { "text_encoder", "unet", "vae_decoder", "vae_encoder" })
            Assert.Equal("OnnxRuntimeModel", index.RootElement.GetProperty(component)[1].GetString());

        using var vae = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory.Path, "vae_decoder", "config.json")));
        Assert.Equal(0.18215, vae.RootElement.GetProperty("scaling_factor").GetDouble());
        Assert.Equal(4, vae.RootElement.GetProperty("latent_channels").GetInt32());

        using var text = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory.Path, "text_encoder", "config.json")));
        using var unet = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory.Path, "unet", "config.json")));
        Assert.Equal(text.RootElement.GetProperty("hidden_size").GetInt32(), unet.RootElement.GetProperty("cross_attention_dim").GetInt32());
        Assert.Equal(77, text.RootElement.GetProperty("max_position_embeddings").GetInt32());
    }

    [SharedDataFact]
    public void Write_SchedulerConfig_IsStableDiffusion15sFileByteForByte()
    {
        var directory = model;

        Assert.Equal(File.ReadAllBytes(SharedData.PathOf("sd15", "scheduler_config.json")),
            File.ReadAllBytes(Path.Combine(directory.Path, "scheduler", "scheduler_config.json")));
    }

    [Fact]
    public void EnsureDefault_CreatesTheDefaultModelOnce_AtomicallyUnderModels()
    {
        using var data = new TemporaryDirectory();
        var reference = model;

        var path = TinyModelBuilder.EnsureDefault(data.Path);
        Assert.Equal(Path.Combine(data.Path, "models", "tiny-sd"), path);
        Assert.Equal(File.ReadAllBytes(Path.Combine(reference.Path, "unet", "model.onnx")), File.ReadAllBytes(Path.Combine(path, "unet", "model.onnx")));
        Assert.Equal(["tiny-sd"], Directory.GetDirectories(Path.Combine(data.Path, "models")).Select(Path.GetFileName));

        var stamp = File.GetLastWriteTimeUtc(Path.Combine(path, "unet", "model.onnx"));
        Assert.Equal(path, TinyModelBuilder.EnsureDefault(data.Path));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(path, "unet", "model.onnx")));
    }

    [Fact]
    public void EnsureDefault_CalledConcurrently_LeavesOneCompleteFolder()
    {
        using var data = new TemporaryDirectory();
        var paths = new string[3];
        Parallel.For(0, paths.Length, i => paths[i] = TinyModelBuilder.EnsureDefault(data.Path));

        Assert.All(paths, path => Assert.Equal(paths[0], path));
        Assert.Equal(["tiny-sd"], Directory.GetDirectories(Path.Combine(data.Path, "models")).Select(Path.GetFileName));
        foreach (var file in LayoutFiles)
            Assert.True(File.Exists(Path.Combine(paths[0], file)), $"{file} missing");
    }

    private static string[] RelativeFiles(string root) =>
        Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(root, file))
            .Order(StringComparer.Ordinal)
            .ToArray();
}
