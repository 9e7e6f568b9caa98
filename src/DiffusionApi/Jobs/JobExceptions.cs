namespace DiffusionApi.Jobs;

/// <summary>The engine failed while running the batch that held this job.</summary>
public sealed class JobFailedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The service stopped before this job could finish (the shutdown timeout ran out, or the model failed to load).</summary>
public sealed class JobAbortedException(string message) : Exception(message);
