using System.Text.Json;

namespace DiffusionEngine.Models;

/// <summary>
/// A Stable Diffusion model folder in the diffusers / Optimum ONNX export layout, validated on open:
/// <c>model_index.json</c>, <c>scheduler/scheduler_config.json</c>, <c>tokenizer/</c>, <c>text_encoder/model.onnx</c>,
/// <c>unet/model.onnx</c> (external weights <c>model.onnx_data</c> / <c>weights.pb</c> beside it are found by ONNX
/// Runtime), <c>vae_decoder/model.onnx</c>, optional <c>vae_encoder/model.onnx</c>, <c>vae_decoder/config.json</c> and
/// <c>unet/config.json</c>, and SDXL's <c>tokenizer_2/</c> and <c>text_encoder_2/model.onnx</c> when present.
/// Opening reads only the small JSON files; the ONNX files are loaded by the pipeline, which also decides (from the
/// class name and the UNet's inputs) which components the model needs.
/// </summary>
public sealed class ModelFolder
{
    /// <summary>The VAE latent scaling factor of SD 1.x, used when vae_decoder/config.json does not give one.</summary>
    public const float DefaultScalingFactor = 0.18215f;

    // The paths below derive from the directory alone; Open checks and reads the files through them, then sets the rest.
    private ModelFolder(string directory) => Directory = directory;

    /// <summary>Full path of the folder.</summary>
    public string Directory { get; }

    /// <summary>The folder's name, used as the model name.</summary>
    public string Name => Path.GetFileName(Directory);

    public string ModelIndexPath => Path.Combine(Directory, "model_index.json");
    public string SchedulerConfigPath => Path.Combine(Directory, "scheduler", "scheduler_config.json");
    public string TokenizerDirectory => Path.Combine(Directory, "tokenizer");
    public string TextEncoderPath => Path.Combine(Directory, "text_encoder", "model.onnx");
    public string UNetPath => Path.Combine(Directory, "unet", "model.onnx");
    public string VaeDecoderPath => Path.Combine(Directory, "vae_decoder", "model.onnx");
    public string VaeDecoderConfigPath => Path.Combine(Directory, "vae_decoder", "config.json");
    public string UNetConfigPath => Path.Combine(Directory, "unet", "config.json");
    public string Tokenizer2Directory => Path.Combine(Directory, "tokenizer_2");
    public string TextEncoder2Path => Path.Combine(Directory, "text_encoder_2", "model.onnx");

    /// <summary>Whether the folder has SDXL's second tokenizer and text encoder (tokenizer_2/, text_encoder_2/model.onnx).</summary>
    public bool HasSecondTextEncoder => System.IO.Directory.Exists(Tokenizer2Directory) && File.Exists(TextEncoder2Path);

    /// <summary>model_index.json's <c>_class_name</c> (e.g. "StableDiffusionXLPipeline", "OnnxStableDiffusionPipeline"), or null.</summary>
    public string? PipelineClassName { get; private set; }

    /// <summary>
    /// model_index.json's <c>force_zeros_for_empty_prompt</c> (SDXL): an empty negative prompt becomes zero embeddings
    /// instead of the encoded empty string. True when absent, as diffusers' StableDiffusionXLPipeline defaults it.
    /// </summary>
    public bool ForceZerosForEmptyPrompt { get; private set; } = true;

    /// <summary>What unet/config.json says (every value null when the file or key is absent).</summary>
    public UNetConfig UNetConfig { get; private set; } = new(null, null, null);

    /// <summary>vae_decoder/config.json's <c>shift_factor</c> (latents = (x − shift)·scale), or null (SD 1.x/2.x/XL have none).</summary>
    public float? VaeShiftFactor { get; private set; }

    /// <summary>vae_encoder/model.onnx when the export has one (image-to-image), else null.</summary>
    public string? VaeEncoderPath { get; private set; }

    /// <summary>The text of scheduler/scheduler_config.json (checked to be a JSON object).</summary>
    public string SchedulerConfigJson { get; private set; } = "";

    /// <summary>The scheduler class model_index.json names (<c>"scheduler": ["diffusers", "PNDMScheduler"]</c>), or null.</summary>
    public string? IndexSchedulerClassName { get; private set; }

    /// <summary>vae_decoder/config.json's <c>scaling_factor</c>, or <see cref="DefaultScalingFactor"/>.</summary>
    public float VaeScalingFactor { get; private set; }

    /// <summary>
    /// Validates the layout of <paramref name="directory"/> and reads its JSON files.
    /// </summary>
    /// <exception cref="ModelLoadException">The folder or a required file is missing, or a JSON file is malformed;
    /// the message names the path and what is wrong.</exception>
    public static ModelFolder Open(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var full = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        if (!System.IO.Directory.Exists(full))
        {
            throw new ModelLoadException(full, "the model folder does not exist (expected a diffusers/Optimum ONNX export folder)");
        }

        var folder = new ModelFolder(full);
        RequireFile(folder.ModelIndexPath, "model_index.json is missing: this is not a diffusers/Optimum model folder");
        using (var modelIndex = ReadJsonObject(folder.ModelIndexPath))
        {
            folder.IndexSchedulerClassName = ReadSchedulerClass(modelIndex);
            folder.PipelineClassName = ReadString(modelIndex, "_class_name", folder.ModelIndexPath);
            folder.ForceZerosForEmptyPrompt = ReadBoolean(modelIndex, "force_zeros_for_empty_prompt", folder.ModelIndexPath) ?? true;
            if (ReadBoolean(modelIndex, "requires_aesthetics_score", folder.ModelIndexPath) == true)
            {
                throw new ModelLoadException(folder.ModelIndexPath,
                    "requires_aesthetics_score is true: this is an SDXL refiner, which is not supported (supported: SD 1.x/2.x, SDXL base, inpainting, LCM and Turbo models)");
            }
        }

        RequireFile(folder.SchedulerConfigPath, "the scheduler component is missing (scheduler/scheduler_config.json)");
        folder.SchedulerConfigJson = File.ReadAllText(folder.SchedulerConfigPath);
        using (ParseJsonObject(folder.SchedulerConfigJson, folder.SchedulerConfigPath)) { }

        if (!System.IO.Directory.Exists(folder.TokenizerDirectory))
        {
            throw new ModelLoadException(folder.TokenizerDirectory, "the tokenizer component is missing (tokenizer/ with vocab.json and merges.txt)");
        }

        RequireFile(folder.TextEncoderPath, "the text_encoder component is missing (text_encoder/model.onnx)");
        RequireFile(folder.UNetPath, "the unet component is missing (unet/model.onnx)");
        RequireFile(folder.VaeDecoderPath, "the vae_decoder component is missing (vae_decoder/model.onnx)");

        folder.VaeScalingFactor = ReadScalingFactor(folder.VaeDecoderConfigPath);
        folder.VaeShiftFactor = ReadShiftFactor(folder.VaeDecoderConfigPath);
        folder.UNetConfig = UNetConfig.Read(folder.UNetConfigPath);
        var vaeEncoderPath = Path.Combine(full, "vae_encoder", "model.onnx");
        folder.VaeEncoderPath = File.Exists(vaeEncoderPath) ? vaeEncoderPath : null;
        return folder;
    }

    private static string? ReadSchedulerClass(JsonDocument modelIndex)
    {
        if (!modelIndex.RootElement.TryGetProperty("scheduler", out var entry) || entry.ValueKind != JsonValueKind.Array) return null;
        if (entry.GetArrayLength() != 2 || entry[1].ValueKind != JsonValueKind.String) return null;
        return entry[1].GetString();
    }

    private static float ReadScalingFactor(string configPath)
    {
        if (!File.Exists(configPath)) return DefaultScalingFactor;
        using var config = ReadJsonObject(configPath);
        if (!config.RootElement.TryGetProperty("scaling_factor", out var value)) return DefaultScalingFactor;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetSingle(out var factor) || !float.IsFinite(factor) || factor <= 0)
        {
            throw new ModelLoadException(configPath, $"scaling_factor must be a positive number but was {value.GetRawText()}");
        }
        return factor;
    }

    private static float? ReadShiftFactor(string configPath)
    {
        if (!File.Exists(configPath)) return null;
        using var config = ReadJsonObject(configPath);
        if (!config.RootElement.TryGetProperty("shift_factor", out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetSingle(out var shift) || !float.IsFinite(shift))
        {
            throw new ModelLoadException(configPath, $"shift_factor must be a number but was {value.GetRawText()}");
        }
        return shift;
    }

    private static string? ReadString(JsonDocument document, string key, string path)
    {
        if (!document.RootElement.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw new ModelLoadException(path, $"{key} must be a string but was {value.GetRawText()}");
    }

    private static bool? ReadBoolean(JsonDocument document, string key, string path)
    {
        if (!document.RootElement.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new ModelLoadException(path, $"{key} must be true or false but was {value.GetRawText()}"),
        };
    }

    private static void RequireFile(string path, string problem)
    {
        if (!File.Exists(path)) throw new ModelLoadException(path, problem);
    }

    /// <summary>Parses a JSON file that must hold an object; the caller disposes the document.</summary>
    internal static JsonDocument ReadJsonObject(string path) => ParseJsonObject(File.ReadAllText(path), path);

    /// <summary>Parses <paramref name="json"/> (the text of <paramref name="path"/>), which must hold an object; the caller disposes the document.</summary>
    private static JsonDocument ParseJsonObject(string json, string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new ModelLoadException(path, $"malformed JSON: {ex.Message}", ex);
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            var kind = document.RootElement.ValueKind;
            document.Dispose();
            throw new ModelLoadException(path, $"malformed JSON: expected an object at the top level but found {kind}");
        }
        return document;
    }
}
