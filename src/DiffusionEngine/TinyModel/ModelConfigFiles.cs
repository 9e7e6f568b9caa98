using System.Text.Json;
using DiffusionEngine.TinyModel.Graphs;

namespace DiffusionEngine.TinyModel;

/// <summary>
/// The JSON files of a diffusers ONNX model folder other than the tokenizer's: model_index.json (as diffusers'
/// OnnxStableDiffusionPipeline saves it), SD 1.5's scheduler_config.json verbatim, and each component's config.json
/// with the sizes of the generated architecture. Written with fixed key order and formatting, so they are byte-stable.
/// </summary>
internal static class ModelConfigFiles
{
    /// <summary>runwayml/stable-diffusion-v1-5 scheduler/scheduler_config.json, byte for byte (reference-vectors.md §4).</summary>
    public const string SchedulerConfigJson = """
        {
          "_class_name": "PNDMScheduler",
          "_diffusers_version": "0.6.0",
          "beta_end": 0.012,
          "beta_schedule": "scaled_linear",
          "beta_start": 0.00085,
          "num_train_timesteps": 1000,
          "set_alpha_to_one": false,
          "skip_prk_steps": true,
          "steps_offset": 1,
          "trained_betas": null,
          "clip_sample": false
        }

        """;

    public static void WriteModelIndex(string path) => WriteJson(path, json =>
    {
        json.WriteString("_class_name", "OnnxStableDiffusionPipeline");
        json.WriteString("_diffusers_version", "0.6.0");
        WritePair(json, "feature_extractor", null, null);
        json.WriteBoolean("requires_safety_checker", false);
        WritePair(json, "safety_checker", null, null);
        WritePair(json, "scheduler", "diffusers", "PNDMScheduler");
        WritePair(json, "text_encoder", "diffusers", "OnnxRuntimeModel");
        WritePair(json, "tokenizer", "transformers", "CLIPTokenizer");
        WritePair(json, "unet", "diffusers", "OnnxRuntimeModel");
        WritePair(json, "vae_decoder", "diffusers", "OnnxRuntimeModel");
        WritePair(json, "vae_encoder", "diffusers", "OnnxRuntimeModel");
    });

    public static void WriteTextEncoderConfig(string path, TextEncoderArchitecture arch, int vocabularySize, int bosId, int eosId, ModelDataType dataType) =>
        WriteJson(path, json =>
        {
            json.WriteString("_name_or_path", "DiffusionService/tiny-sd");
            json.WriteStartArray("architectures");
            json.WriteStringValue("CLIPTextModel");
            json.WriteEndArray();
            json.WriteNumber("attention_dropout", 0.0);
            json.WriteNumber("bos_token_id", bosId);
            json.WriteNumber("dropout", 0.0);
            json.WriteNumber("eos_token_id", eosId);
            json.WriteString("hidden_act", "quick_gelu");
            json.WriteNumber("hidden_size", arch.HiddenSize);
            json.WriteNumber("intermediate_size", arch.IntermediateSize);
            json.WriteNumber("layer_norm_eps", arch.LayerNormEpsilon);
            json.WriteNumber("max_position_embeddings", arch.MaxPositionEmbeddings);
            json.WriteString("model_type", "clip_text_model");
            json.WriteNumber("num_attention_heads", arch.AttentionHeads);
            json.WriteNumber("num_hidden_layers", arch.HiddenLayers);
            json.WriteNumber("pad_token_id", eosId);
            json.WriteNumber("projection_dim", arch.HiddenSize);
            json.WriteString("torch_dtype", TorchDtype(dataType));
            json.WriteNumber("vocab_size", vocabularySize);
        });

    public static void WriteUNetConfig(string path, UNetArchitecture arch) => WriteJson(path, json =>
    {
        json.WriteString("_class_name", "UNet2DConditionModel");
        json.WriteString("_diffusers_version", "0.6.0");
        json.WriteString("act_fn", "silu");
        json.WriteNumber("attention_head_dim", arch.AttentionHeads);
        WriteInts(json, "block_out_channels", arch.BlockOutChannels);
        json.WriteBoolean("center_input_sample", false);
        json.WriteNumber("cross_attention_dim", arch.CrossAttentionDim);
        json.WriteStartArray("down_block_types");
        foreach (var crossAttention in arch.CrossAttention) json.WriteStringValue(crossAttention ? "CrossAttnDownBlock2D" : "DownBlock2D");
        json.WriteEndArray();
        json.WriteNumber("downsample_padding", 1);
        json.WriteBoolean("flip_sin_to_cos", true);
        json.WriteNumber("freq_shift", 0);
        json.WriteNumber("in_channels", UNetArchitecture.LatentChannels);
        json.WriteNumber("layers_per_block", arch.LayersPerBlock);
        json.WriteNumber("mid_block_scale_factor", 1);
        json.WriteNumber("norm_eps", 1e-05);
        json.WriteNumber("norm_num_groups", arch.NormGroups);
        json.WriteNumber("out_channels", UNetArchitecture.LatentChannels);
        json.WriteNumber("sample_size", arch.SampleSize);
        json.WriteStartArray("up_block_types");
        for (var i = arch.CrossAttention.Length - 1; i >= 0; i--) json.WriteStringValue(arch.CrossAttention[i] ? "CrossAttnUpBlock2D" : "UpBlock2D");
        json.WriteEndArray();
    });

    public static void WriteVaeConfig(string path, VaeArchitecture arch) => WriteJson(path, json =>
    {
        json.WriteString("_class_name", "AutoencoderKL");
        json.WriteString("_diffusers_version", "0.6.0");
        json.WriteString("act_fn", "silu");
        WriteInts(json, "block_out_channels", arch.BlockOutChannels);
        json.WriteStartArray("down_block_types");
        foreach (var _ in arch.BlockOutChannels) json.WriteStringValue("DownEncoderBlock2D");
        json.WriteEndArray();
        json.WriteNumber("in_channels", VaeArchitecture.ImageChannels);
        json.WriteNumber("latent_channels", VaeArchitecture.LatentChannels);
        json.WriteNumber("layers_per_block", arch.LayersPerBlock);
        json.WriteNumber("norm_num_groups", arch.NormGroups);
        json.WriteNumber("out_channels", VaeArchitecture.ImageChannels);
        json.WriteNumber("sample_size", arch.SampleSize);
        json.WriteNumber("scaling_factor", VaeArchitecture.ScalingFactor);
        json.WriteStartArray("up_block_types");
        foreach (var _ in arch.BlockOutChannels) json.WriteStringValue("UpDecoderBlock2D");
        json.WriteEndArray();
    });

    private static string TorchDtype(ModelDataType dataType) => dataType == ModelDataType.Float16 ? "float16" : "float32";

    private static void WritePair(Utf8JsonWriter json, string name, string? library, string? className)
    {
        json.WriteStartArray(name);
        if (library is null) json.WriteNullValue(); else json.WriteStringValue(library);
        if (className is null) json.WriteNullValue(); else json.WriteStringValue(className);
        json.WriteEndArray();
    }

    private static void WriteInts(Utf8JsonWriter json, string name, int[] values)
    {
        json.WriteStartArray(name);
        foreach (var value in values) json.WriteNumberValue(value);
        json.WriteEndArray();
    }

    private static void WriteJson(string path, Action<Utf8JsonWriter> writeProperties)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, IndentSize = 2, NewLine = "\n" }))
        {
            json.WriteStartObject();
            writeProperties(json);
            json.WriteEndObject();
        }
        stream.WriteByte((byte)'\n');
        File.WriteAllBytes(path, stream.ToArray());
    }
}
