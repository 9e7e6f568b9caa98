using DiffusionEngine.TinyModel;

namespace DiffusionEngine.Tests.TinyModel;

/// <summary>One default tiny model folder shared by the tests of a class (written once, deleted afterwards).</summary>
public sealed class DefaultTinyModelFixture : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public DefaultTinyModelFixture() => TinyModelBuilder.Write(_directory.Path, new TinyModelOptions());

    public string Path => _directory.Path;

    public void Dispose() => _directory.Dispose();
}
