using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Optimization;

/// <summary>The ONNX Runtime build the engine runs on (part of the optimised-model cache key: fusions target its kernels).</summary>
public static class OnnxRuntimeInfo
{
    /// <summary>The native library's version string, e.g. "1.31.0".</summary>
    public static string Version { get; } = OrtEnv.Instance().GetVersionString();
}
