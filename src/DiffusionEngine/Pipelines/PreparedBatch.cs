using DiffusionEngine.Schedulers;

namespace DiffusionEngine.Pipelines;

/// <summary>
/// A batch that passed step 1 ("check inputs"): its requests, their shared <see cref="BatchKey"/>, the resolved scheduler
/// and each request's texts, tokenized and padded to the key's <see cref="BatchKey.PromptChunks"/>.
/// </summary>
internal sealed record PreparedBatch(IReadOnlyList<GenerationRequest> Requests, BatchKey Key, SchedulerInfo Scheduler, IReadOnlyList<RequestPrompts> Prompts)
{
    public int Count => Requests.Count;
    public int LatentHeight => Key.Height / 8;
    public int LatentWidth => Key.Width / 8;

    /// <summary>Rows of the UNet batch: [uncond; cond] with the unconditional pass, else one per image.</summary>
    public int UNetBatch => Key.UnconditionalPass ? 2 * Count : Count;
}
