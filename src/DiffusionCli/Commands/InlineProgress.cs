namespace DiffusionCli.Commands;

/// <summary>
/// An <see cref="IProgress{T}"/> that calls back on the reporting thread at once (Progress&lt;T&gt; would post each
/// report to the thread pool, so a bar could lag behind or update after the work is done).
/// </summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
