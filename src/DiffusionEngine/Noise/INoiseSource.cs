namespace DiffusionEngine.Noise;

/// <summary>
/// A seeded stream of standard normal values. One instance belongs to one image of one generation:
/// consecutive calls continue the stream (as consecutive <c>torch.randn</c> calls on one generator do).
/// </summary>
public interface INoiseSource
{
    /// <summary>Fills <paramref name="destination"/> with the next N(0, 1) values of the stream, in row-major order.</summary>
    void Fill(Span<float> destination);
}
