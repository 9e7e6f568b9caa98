using System.Collections.Concurrent;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Runtime;
using DiffusionEngine.TinyModel;

namespace DiffusionEngine.Tests.Pipelines;

/// <summary>
/// Tiny model folders written once per test run into one temp folder (each variant on first use), and one shared CPU
/// pipeline over the default variant. Tests that corrupt a folder work on <see cref="CopyOfDefaultModel"/>.
/// </summary>
public sealed class TinyModelFixture : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("pipeline-tests-").FullName;
    private readonly ConcurrentDictionary<TinyModelOptions, Lazy<string>> _models = new();
    private readonly Lazy<DiffusionPipeline> _pipeline;
    private readonly ConcurrentDictionary<TinyModelOptions, Lazy<DiffusionPipeline>> _pipelines = new();
    private int _copies;

    public TinyModelFixture()
    {
        _pipeline = new Lazy<DiffusionPipeline>(() =>
            DiffusionPipeline.Load(DefaultModel, new PipelineOptions { ExecutionProvider = ExecutionProviderKind.Cpu }));
    }

    /// <summary>The default tiny model: float32, int32 input_ids, int64 [batch] timestep.</summary>
    public string DefaultModel => ModelFor(new TinyModelOptions());

    /// <summary>A CPU pipeline over <see cref="DefaultModel"/>, shared by the collection's (sequential) tests.</summary>
    public DiffusionPipeline Pipeline => _pipeline.Value;

    /// <summary>A CPU pipeline over the model built with <paramref name="options"/> (loaded on first request, shared, disposed with the fixture).</summary>
    public DiffusionPipeline PipelineFor(TinyModelOptions options) =>
        options == new TinyModelOptions()
            ? Pipeline
            : _pipelines.GetOrAdd(options, o => new Lazy<DiffusionPipeline>(() =>
                DiffusionPipeline.Load(ModelFor(o), new PipelineOptions { ExecutionProvider = ExecutionProviderKind.Cpu }))).Value;

    /// <summary>A CPU pipeline over the tiny model of <paramref name="preset"/> (other options at their defaults).</summary>
    public DiffusionPipeline PipelineFor(TinyModelPreset preset) => PipelineFor(new TinyModelOptions { Preset = preset });

    /// <summary>The folder of the tiny model built with <paramref name="options"/> (written on first request).</summary>
    public string ModelFor(TinyModelOptions options) =>
        _models.GetOrAdd(options, o => new Lazy<string>(() =>
        {
            var directory = Path.Combine(_root, $"model-{_models.Count}-{Guid.NewGuid():N}");
            TinyModelBuilder.Write(directory, o);
            return directory;
        })).Value;

    /// <summary>A private copy of the default model that a test may break.</summary>
    public string CopyOfDefaultModel() => CopyOf(new TinyModelOptions());

    /// <summary>A private copy of the model built with <paramref name="options"/> that a test may change.</summary>
    public string CopyOf(TinyModelOptions options)
    {
        var target = Path.Combine(_root, $"copy-{Interlocked.Increment(ref _copies)}");
        CopyDirectory(ModelFor(options), target);
        return target;
    }

    public void Dispose()
    {
        if (_pipeline.IsValueCreated) _pipeline.Value.Dispose();
        foreach (var pipeline in _pipelines.Values)
        {
            if (pipeline.IsValueCreated) pipeline.Value.Dispose();
        }
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { /* best effort: cleanup must not hide a test result */ }
    }

    private static void CopyDirectory(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source)) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        foreach (var directory in Directory.GetDirectories(source)) CopyDirectory(directory, Path.Combine(target, Path.GetFileName(directory)));
    }
}

[CollectionDefinition(Name)]
public sealed class TinyModelCollection : ICollectionFixture<TinyModelFixture>
{
    public const string Name = "Tiny model";
}
