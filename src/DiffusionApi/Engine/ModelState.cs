using DiffusionEngine.Pipelines;

namespace DiffusionApi.Engine;

/// <summary>Where a model stands: not loaded (never, or unloaded to make room), loading, loaded, or its last load failed.</summary>
public enum ModelState
{
    Unloaded,
    Loading,
    Loaded,
    Failed,
}

/// <summary>
/// A model's state, what it is (<paramref name="Info"/>: known once it has loaded, kept after it is unloaded), and why its
/// last load failed.
/// </summary>
public sealed record ModelStatus(ModelDefinition Definition, ModelState State, ModelInfo? Info, string? LastError);

/// <summary>A configured model could not be loaded; the message names it and says why.</summary>
public sealed class ModelLoadFailedException(string model, Exception inner)
    : Exception($"the model '{model}' failed to load: {inner.Message}", inner);
