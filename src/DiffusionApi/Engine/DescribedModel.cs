using DiffusionEngine.Pipelines;

namespace DiffusionApi.Engine;

/// <summary>
/// The model as an API-only node knows it: what requests it accepts (sizes, defaults, capabilities, prompt reading),
/// with no ONNX sessions behind it. Endpoints validate against it; nothing generates on it (this node runs no worker).
/// </summary>
public sealed class DescribedModel(ModelInfo model) : IGenerationEngine
{
    public ModelInfo Model => model;

    public IReadOnlyList<GeneratedImage> Generate(IReadOnlyList<GenerationRequest> batch, IProgress<StepProgress>? progress, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("an API-only node (Diffusion:Node:Role=Api) holds no model sessions and runs no jobs");

    public void Dispose()
    {
    }
}
