using DiffusionApi.Model;
using DiffusionEngine.Pipelines;

namespace DiffusionApi.Jobs;

/// <summary>
/// The key the service's gatherer groups jobs by: the engine's own <see cref="BatchKey"/> (size, steps, scheduler, mode,
/// first step, unconditional pass, prompt chunks) of the job's first image, plus the model. The rule lives once, in the
/// engine; this only names it as a stable string that a shared queue can compare without knowing the rule. Every image
/// of a job has the same key (they differ only in seed), so a job is never split by it.
/// </summary>
public static class JobBatchKey
{
    /// <summary>
    /// <c>{engine key}/model={model}</c>, e.g. <c>512x512/steps=20/scheduler=pndm/mode=txt2img/first=0/uncond=1/model=tiny-sd</c>.
    /// The model name comes last because it is the only free-form part, so two different keys can never read the same.
    /// </summary>
    /// <param name="spec">The validated request.</param>
    /// <param name="model">The model that runs it (its metadata only: kind, capabilities, prompt reader).</param>
    /// <exception cref="ArgumentException">The model cannot run the spec (see <see cref="BatchKey.For"/>); the validator
    /// checks this first, so a validated spec never throws here.</exception>
    public static string For(GenerationSpec spec, ModelInfo model) =>
        $"{BatchKey.For(spec.ToEngineRequest(0), model)}/model={spec.Model}";

    /// <summary>
    /// The key as <see cref="For"/> makes it, and the denoising steps the job's progress will count to
    /// (<see cref="BatchKey.StepsThatRun"/>: PNDM's warm-up step included), from one reading of the prompt.
    /// </summary>
    public static (string Key, int TotalSteps) Describe(GenerationSpec spec, ModelInfo model)
    {
        var key = BatchKey.For(spec.ToEngineRequest(0), model);
        return ($"{key}/model={spec.Model}", key.StepsThatRun(model.SchedulerConfig));
    }
}
