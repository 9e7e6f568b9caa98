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
        var pixels = runner.Decode(latents, batch: 2);
        Assert.Equal(2 * 3 * 8 * LatentSize * 8 * LatentSize, pixels.Length);
        Assert.All(pixels, value => Assert.True(float.IsFinite(value)));

        var encoded = runner.Run(encoder, [("sample", pixels, new long[] { 2, 3, 8 * LatentSize, 8 * LatentSize })], "latent_sample");
        Assert.Equal(latents.Length, encoded.Length);
        Assert.All(encoded, value => Assert.True(float.IsFinite(value)));
    }

    private static void AssertTensor(IReadOnlyDictionary<string, NodeMetadata> metadata, string name, TensorElementType type, int[] dimensions)
    {
        Assert.True(metadata.ContainsKey(name), $"tensor {name} missing; found {string.Join(", ", metadata.Keys)}");
        var tensor = metadata[name];
        Assert.Equal(type, tensor.ElementDataType);
        Assert.Equal(dimensions, tensor.Dimensions);
    }
}
