namespace DiffusionEngine.Runtime;

/// <summary>
/// The execution provider that was asked for explicitly (e.g. <see cref="ExecutionProviderKind.Cuda"/>) cannot be
/// used on this machine; the message says what ONNX Runtime could not load.
/// </summary>
public sealed class ExecutionProviderUnavailableException : Exception
{
    public ExecutionProviderUnavailableException(ExecutionProviderKind provider, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Provider = provider;
    }

    /// <summary>The provider that could not be used.</summary>
    public ExecutionProviderKind Provider { get; }
}
