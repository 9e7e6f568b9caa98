namespace DiffusionEngine.Pipelines;

/// <summary>Progress of a batch: <paramref name="Step"/> of <paramref name="TotalSteps"/> denoising steps are done.</summary>
public readonly record struct StepProgress(int Step, int TotalSteps, TimeSpan StepDuration);
