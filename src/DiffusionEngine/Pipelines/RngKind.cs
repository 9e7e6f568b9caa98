namespace DiffusionEngine.Pipelines;

/// <summary>The noise generator a seed is fed to.</summary>
public enum RngKind
{
    /// <summary>PyTorch's CPU generator (MT19937), as diffusers with a CPU generator and ComfyUI use.</summary>
    Cpu,

    /// <summary>A1111's "GPU"/NV source: Philox4x32-10 imitating CUDA's torch.randn.</summary>
    Gpu,
}
