namespace DiffusionEngine.Pipelines;

/// <summary>Whether <see cref="DiffusionPipeline.Load"/> runs an optimised copy of the model's graphs.</summary>
public enum ModelOptimization
{
    /// <summary>Load the model's own graphs.</summary>
    Off,

    /// <summary>
    /// Optimise on first load into <see cref="PipelineOptions.OptimizedModelCache"/> for the provider the sessions run on
    /// (CPU: fused fp32; CUDA: fused + GroupNorm + float16) and load that copy afterwards; if optimising fails, or the
    /// copy does not load, log a warning and load the model's own graphs.
    /// </summary>
    Auto,
}
