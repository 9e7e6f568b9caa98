using System.Text.Json;
using DiffusionEngine.TinyModel.Graphs;

namespace DiffusionEngine.TinyModel;

/// <summary>
/// The JSON files of a diffusers ONNX model folder other than the tokenizer's: model_index.json (as diffusers'
/// OnnxStableDiffusionPipeline saves it, or with the preset's class), the preset's scheduler_config.json verbatim (SD 1.5's,
/// SDXL base's, an LCM's), and each component's config.json
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

    /// <summary>
    /// stabilityai/stable-diffusion-xl-base-1.0 scheduler/scheduler_config.json (EulerDiscreteScheduler, leading spacing),
    /// the scheduler of the SDXL presets.
    /// </summary>
    public const string SdxlSchedulerConfigJson = """
        {
          "_class_name": "EulerDiscreteScheduler",
          "_diffusers_version": "0.19.0.dev0",
          "beta_end": 0.012,
          "beta_schedule": "scaled_linear",
          "beta_start": 0.00085,
          "clip_sample": false,
          "interpolation_type": "linear",
          "num_train_timesteps": 1000,
          "prediction_type": "epsilon",
          "sample_max_value": 1.0,
          "set_alpha_to_one": false,
          "skip_prk_steps": true,
          "steps_offset": 1,
          "timestep_spacing": "leading",
          "trained_betas": null,
          "use_karras_sigmas": false
        }

        """;

    /// <summary>An LCM's scheduler_config.json as SimianLuo/LCM_Dreamshaper_v7 ships it (LCMScheduler, 50 original steps).</summary>
    public const string LcmSchedulerConfigJson = """
        {
          "_class_name": "LCMScheduler",
          "_diffusers_version": "0.22.0.dev0",
          "beta_end": 0.012,
          "beta_schedule": "scaled_linear",
          "beta_start": 0.00085,
          "clip_sample": false,
          "clip_sample_range": 1.0,
          "dynamic_thresholding_ratio": 0.995,
          "num_train_timesteps": 1000,
          "original_inference_steps": 50,
          "prediction_type": "epsilon",
          "rescale_betas_zero_snr": false,
          "sample_max_value": 1.0,
          "set_alpha_to_one": true,
          "steps_offset": 1,
          "thresholding": false,
          "timestep_scaling": 10.0,
          "timestep_spacing": "leading",
          "trained_betas": null
        }

        """;

    /// <summary>The scheduler_config.json a preset's model ships.</summary>
    public static string SchedulerConfigFor(TinyModelPreset preset) => preset switch
    {
        _ when preset.IsXL() => SdxlSchedulerConfigJson,
        TinyModelPreset.TinyLcm => LcmSchedulerConfigJson,
        _ => SchedulerConfigJson,
    };

    /// <summary>
    /// model_index.json: for the SD presets as diffusers' OnnxStableDiffusionPipeline (or OnnxStableDiffusionInpaintPipeline)
    /// saves it; for the SDXL and LCM presets with the diffusers class name and components an Optimum export keeps.
    /// </summary>
    public static void WriteModelIndex(string path, TinyModelPreset preset = TinyModelPreset.Tiny) => WriteJson(path, json =>
    {
        var xl = preset.IsXL();
        json.WriteString("_class_name", preset switch
        {
            _ when xl => "StableDiffusionXLPipeline",
            TinyModelPreset.TinyInpaint => "OnnxStableDiffusionInpaintPipeline",
            TinyModelPreset.TinyLcm => "LatentConsistencyModelPipeline",
            _ => "OnnxStableDiffusionPipeline",
        });
        json.WriteString("_diffusers_version", "0.6.0");
        WritePair(json, "feature_extractor", null, null);
        if (xl) json.WriteBoolean("force_zeros_for_empty_prompt", true);
        json.WriteBoolean("requires_safety_checker", false);
        WritePair(json, "safety_checker", null, null);
        WritePair(json, "scheduler", "diffusers", xl ? "EulerDiscreteScheduler" : preset == TinyModelPreset.TinyLcm ? "LCMScheduler" : "PNDMScheduler");
        WritePair(json, "text_encoder", "diffusers", "OnnxRuntimeModel");
        if (xl) WritePair(json, "text_encoder_2", "diffusers", "OnnxRuntimeModel");
        WritePair(json, "tokenizer", "transformers", "CLIPTokenizer");
        if (xl) WritePair(json, "tokenizer_2", "transformers", "CLIPTokenizer");
        WritePair(json, "unet", "diffusers", "OnnxRuntimeModel");
        WritePair(json, "vae_decoder", "diffusers", "OnnxRuntimeModel");
        WritePair(json, "vae_encoder", "diffusers", "OnnxRuntimeModel");
    });

    public static void WriteTextEncoderConfig(string path, TextEncoderArchitecture arch, int vocabularySize, int bosId, int eosId, ModelDataType dataType) =>
        WriteJson(path, json =>
        {
            json.WriteString("_name_or_path", "DiffusionService/tiny-sd");
            json.WriteStartArray("architectures");
            json.WriteStringValue(arch.ProjectionDim is null ? "CLIPTextModel" : "CLIPTextModelWithProjection");
            json.WriteEndArray();
            json.WriteNumber("attention_dropout", 0.0);
            json.WriteNumber("bos_token_id", bosId);
            json.WriteNumber("dropout", 0.0);
            json.WriteNumber("eos_token_id", eosId);
            json.WriteString("hidden_act", arch.ExactGelu ? "gelu" : "quick_gelu");
            json.WriteNumber("hidden_size", arch.HiddenSize);
            json.WriteNumber("intermediate_size", arch.IntermediateSize);
            json.WriteNumber("layer_norm_eps", arch.LayerNormEpsilon);
            json.WriteNumber("max_position_embeddings", arch.MaxPositionEmbeddings);
            json.WriteString("model_type", "clip_text_model");
            json.WriteNumber("num_attention_heads", arch.AttentionHeads);
            json.WriteNumber("num_hidden_layers", arch.HiddenLayers);
            json.WriteNumber("pad_token_id", eosId);
            json.WriteNumber("projection_dim", arch.ProjectionDim ?? arch.HiddenSize);
            json.WriteString("torch_dtype", TorchDtype(dataType));
            json.WriteNumber("vocab_size", vocabularySize);
        });

    public static void WriteUNetConfig(string path, UNetArchitecture arch) => WriteJson(path, json =>
    {
        json.WriteString("_class_name", "UNet2DConditionModel");
        json.WriteString("_diffusers_version", "0.6.0");
        json.WriteString("act_fn", "silu");
        if (arch.AdditionTimeEmbedDim is { } additionDim)
        {
            json.WriteString("addition_embed_type", "text_time");
            json.WriteNumber("addition_time_embed_dim", additionDim);
        }
        if (arch.AttentionHeadDim is null) json.WriteNumber("attention_head_dim", arch.AttentionHeads);
        else WriteInts(json, "attention_head_dim", Array.ConvertAll(arch.BlockOutChannels, arch.HeadsAt));
        WriteInts(json, "block_out_channels", arch.BlockOutChannels);
        json.WriteBoolean("center_input_sample", false);
        json.WriteNumber("cross_attention_dim", arch.CrossAttentionDim);
        json.WriteStartArray("down_block_types");
        foreach (var crossAttention in arch.CrossAttention) json.WriteStringValue(crossAttention ? "CrossAttnDownBlock2D" : "DownBlock2D");
        json.WriteEndArray();
        json.WriteNumber("downsample_padding", 1);
        json.WriteBoolean("flip_sin_to_cos", true);
        json.WriteNumber("freq_shift", 0);
        json.WriteNumber("in_channels", arch.InChannels);
        json.WriteNumber("layers_per_block", arch.LayersPerBlock);
        json.WriteNumber("mid_block_scale_factor", 1);
        json.WriteNumber("norm_eps", 1e-05);
        json.WriteNumber("norm_num_groups", arch.NormGroups);
        json.WriteNumber("out_channels", UNetArchitecture.LatentChannels);
        if (arch.AdditionTimeEmbedDim is not null) json.WriteNumber("projection_class_embeddings_input_dim", arch.AdditionEmbeddingInputDim);
        json.WriteNumber("sample_size", arch.SampleSize);
        if (arch.TimeCondProjDim is { } condDim) json.WriteNumber("time_cond_proj_dim", condDim);
        if (arch.TransformerLayers is { } layers) WriteInts(json, "transformer_layers_per_block", layers);
        json.WriteStartArray("up_block_types");
        for (var i = arch.CrossAttention.Length - 1; i >= 0; i--) json.WriteStringValue(arch.CrossAttention[i] ? "CrossAttnUpBlock2D" : "UpBlock2D");
        json.WriteEndArray();
        if (arch.LinearProjection) json.WriteBoolean("use_linear_projection", true);
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
        json.WriteNumber("scaling_factor", arch.ScalingFactor);
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
