using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Pipelines;

/// <summary>One pipeline of the family: runs a checked batch on the components it was made with (steps 2–7).</summary>
internal interface IDiffusionPipeline
{
    /// <param name="batch">The checked batch (step 1 done by <see cref="DiffusionPipeline.Generate"/>).</param>
    /// <param name="runOptions">Passed to every ONNX Runtime Run; its terminate flag is set on cancellation.</param>
    /// <param name="progress">Told after every denoising step.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    IReadOnlyList<GeneratedImage> Generate(PreparedBatch batch, RunOptions runOptions, IProgress<StepProgress>? progress, CancellationToken cancellationToken);
}
