using System.Text.Json;

namespace DiffusionEngine.Models;

/// <summary>
/// The keys of unet/config.json (diffusers' UNet2DConditionModel config) the engine reads: <c>sample_size</c> (latent
/// size of the native resolution: 64 for SD 1.5's 512², 128 for SDXL's 1024²), <c>in_channels</c> (4, or 9 for an
/// inpainting UNet) and <c>time_cond_proj_dim</c> (an LCM UNet's guidance-embedding width). Each is null when the file
/// or the key is absent; the ONNX file's own shapes come first wherever they are fixed.
/// </summary>
public sealed record UNetConfig(int? SampleSize, int? InChannels, int? TimeCondProjDim)
{
    /// <exception cref="ModelLoadException">The file is malformed or a key is not a positive integer.</exception>
    internal static UNetConfig Read(string path)
    {
        if (!File.Exists(path)) return new(null, null, null);
        using var config = ModelFolder.ReadJsonObject(path);
        return new UNetConfig(PositiveInt(config, "sample_size", path), PositiveInt(config, "in_channels", path), PositiveInt(config, "time_cond_proj_dim", path));
    }

    private static int? PositiveInt(JsonDocument config, string key, string path)
    {
        if (!config.RootElement.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        // sample_size may be a [height, width] pair in some configs; the engine's native size is square, so take the first.
        if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0) value = value[0];
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number > 0) return number;
        throw new ModelLoadException(path, $"{key} must be a positive integer but was {value.GetRawText()}");
    }
}
