namespace DiffusionEngine.TinyModel.Graphs;

/// <summary>Sizes of a diffusers AutoencoderKL (encoder and decoder share them).</summary>
internal sealed record VaeArchitecture(int[] BlockOutChannels, int LayersPerBlock, int NormGroups, int SampleSize)
{
    public const int ImageChannels = 3;
    public const int LatentChannels = 4;

    /// <summary>The latent scaling factor in the config: SD's 0.18215 (AutoencoderKL's default), SDXL's 0.13025.</summary>
    public double ScalingFactor { get; init; } = 0.18215;

    /// <summary>Toy scale: four levels (×8), 8 to 32 channels.</summary>
    public static VaeArchitecture Tiny { get; } = new([8, 16, 32, 32], 1, 4, 256);

    /// <summary>SD 1.5's VAE (block_out_channels 128/256/512/512, two ResNets per level).</summary>
    public static VaeArchitecture Sd15 { get; } = new([128, 256, 512, 512], 2, 32, 512);

    /// <summary>SDXL's VAE: SD's architecture at sample size 1024, scaling factor 0.13025.</summary>
    public static VaeArchitecture Sdxl { get; } = Sd15 with { SampleSize = 1024, ScalingFactor = 0.13025 };
}
