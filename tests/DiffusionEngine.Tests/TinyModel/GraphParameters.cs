using DiffusionEngine.TinyModel.Onnx;

namespace DiffusionEngine.Tests.TinyModel;

internal static class GraphParameters
{
    /// <summary>Learned weights of a graph (structural constants such as masks and frequency tables do not count).</summary>
    public static long Count(OnnxGraph graph)
    {
        long count = 0;
        foreach (var initializer in graph.Initializers)
            if (initializer.IsParameter) count += initializer.ElementCount;
        return count;
    }
}
