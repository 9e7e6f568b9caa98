namespace DiffusionEngine.Runtime;

/// <summary>Where ONNX Runtime runs the models.</summary>
public enum ExecutionProviderKind
{
    /// <summary>CUDA when its provider library and the CUDA 13 / cuDNN 9 libraries load, otherwise CPU (with one warning saying why).</summary>
    Auto,

    /// <summary>CUDA only: loading fails with <see cref="ExecutionProviderUnavailableException"/> when CUDA cannot be used.</summary>
    Cuda,

    /// <summary>The CPU execution provider.</summary>
    Cpu,
}
