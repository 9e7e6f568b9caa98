using DiffusionEngine.Optimization;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Runtime;
using DiffusionEngine.Tests.TestSupport;
using DiffusionEngine.Tests.TinyModel;
using DiffusionEngine.TinyModel;

namespace DiffusionEngine.Tests.Optimization;

/// <summary>ModelOptimization.Auto: optimise once into the cache, reuse it, and key it by the source's contents.</summary>
public sealed class OptimizedModelCacheTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    [Fact]
    public void LoadWithAuto_WritesTheCopyOnceAndReusesIt()
    {
        var model = Path.Combine(_directory.Path, "model");
        var cache = Path.Combine(_directory.Path, "cache");
        TinyModelBuilder.Write(model, new TinyModelOptions());
        var options = new PipelineOptions { ExecutionProvider = ExecutionProviderKind.Cpu, Optimize = ModelOptimization.Auto, OptimizedModelCache = cache };

        using (var logs = new CollectingLoggerFactory())
        using (var pipeline = DiffusionPipeline.Load(model, options, logs))
        {
            Assert.Equal("model", pipeline.Model.Name); // the user's folder, not the cache copy
            Assert.Contains(logs.Entries, e => e.Message.Contains("runs optimised graphs (cpu-fp32)") && e.Message.Contains("written now: True"));
        }
        using (var logs = new CollectingLoggerFactory())
        using (DiffusionPipeline.Load(model, options, logs))
        {
            Assert.Contains(logs.Entries, e => e.Message.Contains("written now: False"));
        }
        Assert.Single(Directory.GetDirectories(cache));
    }

    [Fact]
    public void Key_ChangesWhenAWeightFileChangesAndWithTheOptions()
    {
        var model = Path.Combine(_directory.Path, "model");
        var cache = Path.Combine(_directory.Path, "cache");
        TinyModelBuilder.Write(model, new TinyModelOptions());
        var cpu = new OptimizationOptions();

        var first = OptimizedModelCache.Key(model, cache, cpu);
        Assert.Equal(first, OptimizedModelCache.Key(model, cache, cpu));
        Assert.NotEqual(first, OptimizedModelCache.Key(model, cache, cpu with { Float16 = true }));

        File.AppendAllText(Path.Combine(model, "unet", "config.json"), " ");
        Assert.NotEqual(first, OptimizedModelCache.Key(model, cache, cpu));
    }

    [Fact]
    public void LoadWithAuto_WhenOptimisingFails_WarnsAndLoadsTheOwnGraphs()
    {
        var model = Path.Combine(_directory.Path, "model");
        TinyModelBuilder.Write(model, new TinyModelOptions());
        var cacheThatIsAFile = Path.Combine(_directory.Path, "not-a-folder");
        File.WriteAllText(cacheThatIsAFile, "x");
        using var logs = new CollectingLoggerFactory();

        using var pipeline = DiffusionPipeline.Load(model,
            new PipelineOptions { ExecutionProvider = ExecutionProviderKind.Cpu, Optimize = ModelOptimization.Auto, OptimizedModelCache = cacheThatIsAFile }, logs);

        Assert.Contains(logs.Entries, e => e.Message.StartsWith("Could not optimise model model; loading its own graphs", StringComparison.Ordinal));
        Assert.Single(pipeline.Generate([new GenerationRequest { Prompt = "x", Width = 64, Height = 64, Steps = 2 }]));
    }

    [Fact]
    public void LoadWithAuto_WhenTheCachedCopyDoesNotLoad_WarnsAndLoadsTheOwnGraphs()
    {
        var model = Path.Combine(_directory.Path, "model");
        var cache = Path.Combine(_directory.Path, "cache");
        TinyModelBuilder.Write(model, new TinyModelOptions());
        var options = new PipelineOptions { ExecutionProvider = ExecutionProviderKind.Cpu, Optimize = ModelOptimization.Auto, OptimizedModelCache = cache };
        DiffusionPipeline.Load(model, options).Dispose();
        File.WriteAllBytes(Path.Combine(Directory.GetDirectories(cache).Single(), "unet", "model.onnx"), [1, 2, 3]);
        using var logs = new CollectingLoggerFactory();

        using var pipeline = DiffusionPipeline.Load(model, options, logs);

        Assert.Contains(logs.Entries, e => e.Message.StartsWith("Could not optimise model model; loading its own graphs", StringComparison.Ordinal));
        Assert.Single(pipeline.Generate([new GenerationRequest { Prompt = "x", Width = 64, Height = 64, Steps = 2 }]));
    }

    public void Dispose() => _directory.Dispose();
}
