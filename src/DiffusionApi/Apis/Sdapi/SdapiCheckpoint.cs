using DiffusionApi.Engine;

namespace DiffusionApi.Apis.Sdapi;

/// <summary>
/// A1111's loaded checkpoint: the model /sdapi/v1 generation requests get when their override_settings name none. As in
/// A1111 it is one setting of the whole service (POST /sdapi/v1/options with sd_model_checkpoint changes it for every
/// A1111 client), and it starts as the default model. /v1 requests are not affected: they name their model or get the
/// default. Concurrency: any thread; the last write wins.
/// </summary>
public sealed class SdapiCheckpoint(ModelRegistry models)
{
    private volatile ModelDefinition? _current;

    public ModelDefinition Current => _current ?? models.Default;

    public void Set(ModelDefinition model) => _current = model;

    /// <summary>
    /// A1111's settings with <paramref name="model"/> loaded. Its sd_checkpoints_limit is how many models this service keeps
    /// loaded at once: Diffusion:Models:MaxLoaded, or every configured model when that is 0 (no bound).
    /// </summary>
    public Dictionary<string, object?> Settings(DiffusionEngine.Pipelines.ModelInfo model) =>
        SdapiOptions.Current(model, models.MaxLoaded > 0 ? models.MaxLoaded : models.Statuses().Count);

    /// <summary>The model an A1111 title names: our name, case-insensitively, with or without A1111's " [hash]" suffix; null when none.</summary>
    public ModelDefinition? Resolve(string title)
    {
        var bare = title.Trim();
        var bracket = bare.IndexOf(" [", StringComparison.Ordinal);
        if (bracket > 0) bare = bare[..bracket];
        return bare.Length == 0 ? null : models.Find(bare);
    }
}
