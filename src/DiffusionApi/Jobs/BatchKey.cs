namespace DiffusionApi.Jobs;

/// <summary>Jobs with equal keys can share one engine batch: the engine requires the same size, steps and scheduler.</summary>
public readonly record struct BatchKey(string Model, int Width, int Height, int Steps, string? Scheduler);
