using DiffusionEngine.Imaging;

namespace DiffusionEngine.Pipelines;

/// <summary>
/// Implemented by a <c>progress</c> object passed to <see cref="DiffusionPipeline.Generate"/> that wants live previews:
/// after each denoising step the pipeline asks <see cref="WantsPreview"/>, and only when it answers true hands over the
/// batch's latents (<see cref="LatentFrame"/>) to render with <see cref="LatentPreview"/>. Called on the generating
/// thread, between steps: keep it short (the UNet waits).
/// </summary>
public interface ILatentPreviewObserver
{
    /// <summary>Whether any image of the batch wants a preview after <paramref name="step"/> of <paramref name="totalSteps"/> steps.</summary>
    bool WantsPreview(int step, int totalSteps);

    /// <summary>The latents after <paramref name="step"/>; <paramref name="frame"/> is valid only during this call.</summary>
    void OnPreview(LatentFrame frame, int step, int totalSteps);
}

/// <summary>
/// The batch's current latents as a preview sees them: for image i, its latents scaled as the UNet's next input
/// (<c>scale_model_input</c>, so that every scheduler's latents are near unit variance; the last step's as they are),
/// rendered into RGB at the latents' resolution. One instance per generation, reused every step.
/// </summary>
public sealed class LatentFrame
{
    private readonly Func<int, ReadOnlyMemory<float>> _latent;

    internal LatentFrame(ModelKind kind, int count, int latentHeight, int latentWidth, Func<int, ReadOnlyMemory<float>> latent)
    {
        Kind = kind;
        Count = count;
        Height = latentHeight;
        Width = latentWidth;
        _latent = latent;
    }

    public ModelKind Kind { get; }

    /// <summary>Images in the engine batch.</summary>
    public int Count { get; }

    /// <summary>The preview's size in pixels: the latents' (an eighth of the image's).</summary>
    public int Height { get; }

    public int Width { get; }

    /// <summary>Writes image <paramref name="image"/>'s preview (<see cref="Height"/> × <see cref="Width"/> × 3 RGB bytes) into <paramref name="rgb"/>.</summary>
    public void Render(int image, Span<byte> rgb)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(image);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(image, Count);
        LatentPreview.Render(Kind, _latent(image).Span, Height, Width, rgb);
    }
}
