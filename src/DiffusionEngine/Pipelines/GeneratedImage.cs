namespace DiffusionEngine.Pipelines;

/// <summary>A decoded image: interleaved 8-bit RGB, row-major, <c>Width·Height·3</c> bytes. The caller owns <see cref="Rgb"/>.</summary>
public sealed record GeneratedImage(GenerationRequest Request, int Width, int Height, byte[] Rgb)
{
    /// <summary>The seed that produced this image.</summary>
    public ulong Seed => Request.Seed;
}
