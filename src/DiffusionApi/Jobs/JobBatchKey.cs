using System.Globalization;
using DiffusionApi.Model;

namespace DiffusionApi.Jobs;

/// <summary>
/// The one place the service decides which jobs may share an engine batch. The engine requires the same model, size,
/// steps and scheduler; prompts, seeds, guidance and generators may differ. The key travels with the job as a stable
/// string so that a shared queue can compare it without knowing the rule; when the engine defines its own batch key
/// this function returns that key's text instead, and nothing else changes.
/// </summary>
public static class JobBatchKey
{
    /// <summary>
    /// <c>{width}x{height}/{steps}/{scheduler}/{model}</c> (<c>-</c> for the model's own scheduler). The model name
    /// comes last because it is the only free-form part, so two different keys can never read the same.
    /// </summary>
    public static string For(GenerationSpec spec) =>
        string.Create(CultureInfo.InvariantCulture, $"{spec.Width}x{spec.Height}/{spec.Steps}/{spec.Scheduler ?? "-"}/{spec.Model}");
}
