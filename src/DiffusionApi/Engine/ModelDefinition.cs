namespace DiffusionApi.Engine;

/// <summary>
/// A model the service serves, as configured: the name requests select it by, its folder (empty = the built-in tiny
/// model), where it runs, and whether it loads at start. The first of <see cref="ModelRegistry.Models"/> is the default.
/// </summary>
public sealed record ModelDefinition(string Name, string Path, string ExecutionProvider, bool Preload, bool IsDefault);
