using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Runtime;

/// <summary>
/// One generation's UNet call: inputs and outputs wired to the pipeline's host buffers once, then <see cref="Run"/>
/// per denoising step (allocation-free). How the buffers reach ONNX Runtime is the implementation's business:
/// <see cref="UNetBinding"/> (I/O binding, the default), <see cref="UNetPlainRun"/> (Run with preallocated values),
/// <see cref="UNetDeviceBinding"/> (fixed device buffers for CUDA graphs).
/// </summary>
internal interface IUNetStep : IDisposable
{
    /// <summary>Predicts the noise for the current sample buffer at <paramref name="timestep"/> into the output buffer.</summary>
    void Run(RunOptions runOptions, float timestep);
}
