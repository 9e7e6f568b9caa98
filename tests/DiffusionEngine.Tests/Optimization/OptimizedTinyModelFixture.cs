using DiffusionEngine.Optimization;
using DiffusionEngine.Tests.TinyModel;
using DiffusionEngine.TinyModel;

namespace DiffusionEngine.Tests.Optimization;

/// <summary>The default tiny model and its CPU-optimised (fp32) and fp16 copies, written once for a test class.</summary>
public sealed class OptimizedTinyModelFixture : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public OptimizedTinyModelFixture()
    {
        Original = Path.Combine(_directory.Path, "original");
        Optimized = Path.Combine(_directory.Path, "optimized");
        Float16 = Path.Combine(_directory.Path, "optimized-fp16");
        TinyModelBuilder.Write(Original, new TinyModelOptions());
        Report = ModelOptimizer.Optimize(Original, Optimized, new OptimizationOptions());
        Float16Report = ModelOptimizer.Optimize(Original, Float16, new OptimizationOptions { Float16 = true });
    }

    public string Original { get; }

    public string Optimized { get; }

    public string Float16 { get; }

    public OptimizationReport Report { get; }

    public OptimizationReport Float16Report { get; }

    public void Dispose() => _directory.Dispose();
}
