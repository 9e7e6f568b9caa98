namespace DiffusionEngine.Optimization;

/// <summary>
/// What the optimizer did to one ONNX model of a folder: the subgraphs fused (by kind), the candidates it left as they
/// were (Softmax nodes that were not attention it recognised, Erf and InstanceNormalization nodes left unfused), the
/// float16 conversion's counts, and the node count before and after.
/// </summary>
public sealed record ComponentReport
{
    /// <summary>"unet", "text_encoder", "vae_decoder", "vae_encoder".</summary>
    public required string Component { get; init; }

    public int NodesBefore { get; init; }

    public int NodesAfter { get; init; }

    /// <summary>Fused subgraphs by kind: "MultiHeadAttention (self)", "MultiHeadAttention (cross)", "Gelu", "QuickGelu (SiLU)", "QuickGelu", "LayerNormalization", "GroupNorm", "GroupNorm+SiLU".</summary>
    public IReadOnlyDictionary<string, int> Fused { get; init; } = new Dictionary<string, int>();

    /// <summary>Candidates left unfused, by kind ("Softmax (attention not matched)", "Erf", "InstanceNormalization").</summary>
    public IReadOnlyDictionary<string, int> Left { get; init; } = new Dictionary<string, int>();

    /// <summary>Nodes converted to float16 (0 without --fp16).</summary>
    public int Float16Nodes { get; init; }

    /// <summary>Nodes kept float32 by the float16 conversion, by operator type.</summary>
    public IReadOnlyDictionary<string, int> Float32Kept { get; init; } = new Dictionary<string, int>();
}
