namespace DiffusionApi.Options;

/// <summary>Cross-origin access for web frontends served from other origins (<c>Diffusion:Cors</c>).</summary>
public sealed class CorsOptions
{
    public const string SectionName = "Diffusion:Cors";

    /// <summary>
    /// Origins (<c>scheme://host[:port]</c>) whose pages may call the API with fetch; empty turns CORS off (browsers then
    /// block cross-origin calls). A single <c>*</c> allows any origin, and only while <c>Diffusion:ApiKeys</c> is empty.
    /// </summary>
    public string[] AllowedOrigins { get; set; } = [];

    /// <summary>True when the only entry is <c>*</c>.</summary>
    public bool AllowsAnyOrigin => AllowedOrigins is ["*"];
}
