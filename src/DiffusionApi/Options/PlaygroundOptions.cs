namespace DiffusionApi.Options;

/// <summary>The browser playground at <c>/</c> (<c>Diffusion:Playground</c>).</summary>
public sealed class PlaygroundOptions
{
    public const string SectionName = "Diffusion:Playground";

    /// <summary>
    /// Serve the page at <c>/</c>, its files under <c>/playground/</c> and <c>GET /playground/config</c>. On by default so
    /// a first run greets a browser; production installs (the Helm chart) turn it off. Off, those paths answer 404.
    /// </summary>
    public bool Enabled { get; set; } = true;
}
