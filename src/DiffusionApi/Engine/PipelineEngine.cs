using DiffusionEngine.Pipelines;
using DiffusionEngine.Text;

namespace DiffusionApi.Engine;

/// <summary>The real engine: a <see cref="StableDiffusionPipeline"/> that owns the ONNX Runtime sessions.</summary>
public sealed class PipelineEngine(StableDiffusionPipeline pipeline) : IGenerationEngine
{
    public ModelInfo Model => pipeline.Model;

    public TokenizedPrompt Tokenize(string prompt) => pipeline.Tokenizer.Encode(prompt);

    public IReadOnlyList<GeneratedImage> Generate(IReadOnlyList<GenerationRequest> batch, IProgress<StepProgress>? progress, CancellationToken cancellationToken) =>
        pipeline.Generate(batch, progress, cancellationToken);

    public void Dispose() => pipeline.Dispose();
}
