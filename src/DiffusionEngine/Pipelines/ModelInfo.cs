namespace DiffusionEngine.Pipelines;

/// <summary>What a loaded pipeline runs.</summary>
/// <param name="Name">The model folder's name.</param>
/// <param name="Directory">Full path of the model folder.</param>
/// <param name="DefaultScheduler">The scheduler scheduler_config.json names (short id such as "pndm" when known, else its class name).</param>
/// <param name="TokenizerMaxLength">The text window in tokens, BOS and EOS included (77 for SD).</param>
/// <param name="ExecutionProvider">"CUDA" or "CPU": where the sessions actually run.</param>
public sealed record ModelInfo(string Name, string Directory, string DefaultScheduler, int TokenizerMaxLength, string ExecutionProvider);
