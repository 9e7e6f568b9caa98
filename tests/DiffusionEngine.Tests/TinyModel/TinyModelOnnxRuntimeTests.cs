using DiffusionEngine.TinyModel;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionEngine.Tests.TinyModel;

/// <summary>
/// Every tiny-model variant loads in ONNX Runtime with the tensor names, types and ranks of real SD exports, and
/// runs text_encoder → unet → vae_decoder to finite, non-flat images.
/// </summary>
public sealed class TinyModelOnnxRuntimeTests
{
    private const int Tokens = 77;
    private const int Hidden = 32; // TextEncoderArchitecture.Tiny.HiddenSize
    private const int LatentSize = 8; // 64×64 pixels: small enough for a fast test

    public static TheoryData<ModelDataType, InputIdsType, TimestepInput, bool> Variants()
    {
        var data = new TheoryData<ModelDataType, InputIdsType, TimestepInput, bool>();
        foreach (var dataType in new[] { ModelDataType.Float32, ModelDataType.Float16 })
            foreach (var ids in new[] { InputIdsType.Int32, InputIdsType.Int64 })
                foreach (var timestep in new[] { TimestepInput.Int64Batch, TimestepInput.Float32Scalar })
                    data.Add(dataType, ids, timestep, false);
        data.Add(ModelDataType.Float32, InputIdsType.Int64, TimestepInput.Float32Scalar, true);
        data.Add(ModelDataType.Float16, InputIdsType.Int32, TimestepInput.Int64Batch, true);
        return data;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void EveryVariant_LoadsWithExportTensorSignatures_AndRunsTheFullChainToFiniteOutputs(
        ModelDataType dataType, InputIdsType inputIds, TimestepInput timestep, bool externalData)
    {
        using var directory = new TemporaryDirectory();
        var options = new TinyModelOptions { DataType = dataType, InputIds = inputIds, Timestep = timestep, ExternalData = externalData };
        TinyModelBuilder.Write(directory.Path, options);
        Assert.Equal(externalData, File.Exists(Path.Combine(directory.Path, "unet", TinyModelBuilder.ExternalDataFileName)));

        var floatType = dataType == ModelDataType.Float16 ? TensorElementType.Float16 : TensorElementType.Float;
        using var textEncoder = new InferenceSession(Path.Combine(directory.Path, "text_encoder", "model.onnx"));
        using var unet = new InferenceSession(Path.Combine(directory.Path, "unet", "model.onnx"));
        using var decoder = new InferenceSession(Path.Combine(directory.Path, "vae_decoder", "model.onnx"));
        using var encoder = new InferenceSession(Path.Combine(directory.Path, "vae_encoder", "model.onnx"));

        AssertTensor(textEncoder.InputMetadata, "input_ids", inputIds == InputIdsType.Int64 ? TensorElementType.Int64 : TensorElementType.Int32, [-1, Tokens]);
        AssertTensor(textEncoder.OutputMetadata, "last_hidden_state", floatType, [-1, Tokens, Hidden]);
        AssertTensor(textEncoder.OutputMetadata, "pooler_output", floatType, [-1, Hidden]);
        AssertTensor(unet.InputMetadata, "sample", floatType, [-1, 4, -1, -1]);
        if (timestep == TimestepInput.Int64Batch) AssertTensor(unet.InputMetadata, "timestep", TensorElementType.Int64, [-1]);
        else AssertTensor(unet.InputMetadata, "timestep", floatType, []);
        AssertTensor(unet.InputMetadata, "encoder_hidden_states", floatType, [-1, -1, Hidden]);
        AssertTensor(unet.OutputMetadata, "out_sample", floatType, [-1, 4, -1, -1]);
        AssertTensor(decoder.InputMetadata, "latent_sample", floatType, [-1, 4, -1, -1]);
        AssertTensor(decoder.OutputMetadata, "sample", floatType, [-1, 3, -1, -1]);
        AssertTensor(encoder.InputMetadata, "sample", floatType, [-1, 3, -1, -1]);
        AssertTensor(encoder.OutputMetadata, "latent_sample", floatType, [-1, 4, -1, -1]);

        var runner = new TinyModelRunner(textEncoder, unet, decoder, dataType, inputIds, timestep);
        var hidden = runner.EncodeText([49, 50, 51, 52], batch: 2);
        Assert.All(hidden, value => Assert.True(float.IsFinite(value)));
        var latents = TinyModelRunner.GaussianLatents(2, LatentSize, seed: 7);
        var noise = runner.PredictNoise(latents, hidden, batch: 2, timestep: 981);
        Assert.Equal(latents.Length, noise.Length);
        Assert.All(noise, value => Assert.True(float.IsFinite(value)));
        var pixels = runner.Decode(latents.Select(value => value / 0.18215f).ToArray(), batch: 2);
        Assert.Equal(2 * 3 * 8 * LatentSize * 8 * LatentSize, pixels.Length);
        Assert.All(pixels, value => Assert.True(float.IsFinite(value)));
        var bytes = pixels.Select(x => Math.Round(Math.Clamp(x / 2 + 0.5, 0, 1) * 255)).ToArray();
        var mean = bytes.Average();
        var deviation = Math.Sqrt(bytes.Average(p => (p - mean) * (p - mean)));
        Assert.True(deviation > 5, $"decoded pixel standard deviation {deviation:F2} is not above 5");

        var encoded = runner.Run(encoder, [("sample", pixels, new long[] { 2, 3, 8 * LatentSize, 8 * LatentSize })], "latent_sample");
        Assert.Equal(latents.Length, encoded.Length);
        Assert.All(encoded, value => Assert.True(float.IsFinite(value)));
    }

    [Fact]
    public void Float16Model_HasTheFloat32ModelsWeightsRounded_SoItsOutputsAgreeClosely()
    {
        using var single = new TemporaryDirectory();
        using var half = new TemporaryDirectory();
        TinyModelBuilder.Write(single.Path, new TinyModelOptions());
        TinyModelBuilder.Write(half.Path, new TinyModelOptions { DataType = ModelDataType.Float16 });

        var singleOutputs = RunChain(single.Path, ModelDataType.Float32);
        var halfOutputs = RunChain(half.Path, ModelDataType.Float16);
        for (var i = 0; i < singleOutputs.Length; i++)
        {
            double difference = 0, magnitude = 0;
            for (var j = 0; j < singleOutputs[i].Length; j++)
            {
                difference += Math.Abs(singleOutputs[i][j] - halfOutputs[i][j]);
                magnitude += Math.Abs(singleOutputs[i][j]);
            }
            Assert.True(difference / magnitude < 0.05, $"output {i}: float16 differs from float32 by {difference / magnitude:P1} on average");
        }
    }

    private static float[][] RunChain(string directory, ModelDataType dataType)
    {
        using var textEncoder = new InferenceSession(Path.Combine(directory, "text_encoder", "model.onnx"));
        using var unet = new InferenceSession(Path.Combine(directory, "unet", "model.onnx"));
        using var decoder = new InferenceSession(Path.Combine(directory, "vae_decoder", "model.onnx"));
        var runner = new TinyModelRunner(textEncoder, unet, decoder, dataType, InputIdsType.Int32, TimestepInput.Int64Batch);
        var hidden = runner.EncodeText([600, 30, 40, 679], batch: 1);
        var latents = TinyModelRunner.GaussianLatents(1, LatentSize, seed: 11);
        var noise = runner.PredictNoise(latents, hidden, batch: 1, timestep: 500);
        return [hidden, noise, runner.Decode(noise, batch: 1)];
    }

    private static void AssertTensor(IReadOnlyDictionary<string, NodeMetadata> metadata, string name, TensorElementType type, int[] dimensions)
    {
        Assert.True(metadata.ContainsKey(name), $"tensor {name} missing; found {string.Join(", ", metadata.Keys)}");
        var tensor = metadata[name];
        Assert.Equal(type, tensor.ElementDataType);
        Assert.Equal(dimensions, tensor.Dimensions);
    }
}
