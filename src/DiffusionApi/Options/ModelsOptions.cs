using System.ComponentModel.DataAnnotations;

namespace DiffusionApi.Options;

/// <summary>
/// The models the service serves (<c>Diffusion:Models</c>): a list of entries (<c>Diffusion:Models:0:Name</c>, …; the first
/// is the default) and <c>Diffusion:Models:MaxLoaded</c>, how many may be loaded at once. With no entries the service
/// serves the one model of <c>Diffusion:Model:Path</c>. The list is bound from the section's numeric children
/// (<see cref="ModelsOptionsBinding"/>), so an appsettings array and environment variables both work.
/// </summary>
public sealed class ModelsOptions
{
    public const string SectionName = "Diffusion:Models";

    /// <summary>Models loaded at once; 0 (default) = no bound. Loading one more unloads the least recently used idle one.</summary>
    [Range(0, 64)]
    public int MaxLoaded { get; set; }

    /// <summary>The configured models in order (the first is the default); empty = the single <c>Diffusion:Model:Path</c>.</summary>
    public List<ModelEntryOptions> Entries { get; } = [];
}

/// <summary>One entry of <c>Diffusion:Models</c>.</summary>
public sealed class ModelEntryOptions
{
    /// <summary>What requests name it by (<c>model</c>, A1111's <c>sd_model_checkpoint</c>).</summary>
    public string Name { get; set; } = "";

    /// <summary>A diffusers/Optimum ONNX model folder; empty = the built-in tiny model.</summary>
    public string Path { get; set; } = "";

    /// <summary>auto, cuda or cpu; empty = <c>Diffusion:Model:ExecutionProvider</c>.</summary>
    public string ExecutionProvider { get; set; } = "";

    /// <summary>Load it at start (the default model always is); otherwise it loads on its first request.</summary>
    public bool Preload { get; set; }
}
