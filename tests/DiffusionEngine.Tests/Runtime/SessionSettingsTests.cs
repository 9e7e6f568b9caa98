using DiffusionEngine.Pipelines;
using DiffusionEngine.Runtime;
using DiffusionEngine.Tests.Pipelines;
using Microsoft.Extensions.Logging.Abstractions;

namespace DiffusionEngine.Tests.Runtime;

/// <summary>
/// Session tuning and CUDA provider options (issue 14 points 4 and 5) as they are built and applied; on a machine
/// without CUDA the CUDA path's options are checked as built, and CPU keeps working whatever is asked.
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class SessionSettingsTests(TinyModelFixture models)
{
    [Fact]
    public void CudaSettings_Defaults_AreTheSdDefaults()
    {
        var options = new CudaSettings().ToProviderOptions();

        Assert.Equal("0", options["device_id"]);
        Assert.Equal("EXHAUSTIVE", options["cudnn_conv_algo_search"]);
        Assert.Equal("1", options["cudnn_conv_use_max_workspace"]);
        Assert.Equal("1", options["prefer_nhwc"]);
        Assert.Equal("kSameAsRequested", options["arena_extend_strategy"]);
        Assert.Equal("0", options["enable_cuda_graph"]);
    }

    [Fact]
    public void CudaSettings_WithCudaGraphAndHeuristicSearch_AreApplied()
    {
        var options = new CudaSettings { CudaGraph = true, ConvAlgorithmSearch = "HEURISTIC", PreferNhwc = false, DeviceId = 1 }.ToProviderOptions();

        Assert.Equal("1", options["enable_cuda_graph"]);
        Assert.Equal("HEURISTIC", options["cudnn_conv_algo_search"]);
        Assert.Equal("0", options["prefer_nhwc"]);
        Assert.Equal("1", options["device_id"]);
    }

    [Fact]
    public void CudaSettings_WithUnknownValues_FailNamingTheOption()
    {
        var search = Assert.Throws<ArgumentException>(() => new CudaSettings { ConvAlgorithmSearch = "FASTEST" }.ToProviderOptions());
        Assert.Contains("cudnn_conv_algo_search", search.Message);
        var arena = Assert.Throws<ArgumentException>(() => new CudaSettings { ArenaExtendStrategy = "grow" }.ToProviderOptions());
        Assert.Contains("arena_extend_strategy", arena.Message);
    }

    [Fact]
    public void AutoProvider_WithBadCudaOptions_FailsOnEveryMachine()
    {
        Assert.Throws<ArgumentException>(() =>
            OrtSessionFactory.Create(ExecutionProviderKind.Auto, 0, new SessionTuning(), new CudaSettings { ConvAlgorithmSearch = "x" }, NullLogger.Instance));
    }

    [Fact]
    public void CpuFactory_AppliesSpinningAndNeverUsesDeviceBuffers()
    {
        using var sessions = OrtSessionFactory.Create(ExecutionProviderKind.Cpu, 0, new SessionTuning { AllowSpinning = false },
            new CudaSettings { CudaGraph = true }, NullLogger.Instance);

        Assert.Equal("CPU", sessions.ProviderName);
        Assert.Null(sessions.Cuda);
        Assert.False(sessions.UsesDeviceBuffers);
        Assert.Equal("0", sessions.ConfigEntries["session.intra_op.allow_spinning"]);
    }

    [Fact]
    public void PhysicalCores_IsBetweenOneAndTheLogicalProcessorCount()
    {
        Assert.InRange(SessionTuning.PhysicalCores, 1, Environment.ProcessorCount);
        Assert.Equal(SessionTuning.PhysicalCores, SessionTuning.ResolveThreads(0));
        Assert.Equal(3, SessionTuning.ResolveThreads(3));
    }

    [Theory]
    [InlineData(true, "IoBinding")]
    [InlineData(false, "PlainRun")]
    public void UNetCallMode_FollowsTheIoBindingSetting(bool ioBinding, string expected)
    {
        using var sessions = OrtSessionFactory.Create(ExecutionProviderKind.Cpu, 1, new SessionTuning { IoBinding = ioBinding }, new CudaSettings(), NullLogger.Instance);
        using var unet = UNetModel.Load(sessions, Path.Combine(models.DefaultModel, "unet", "model.onnx"), new OrtRunTimer());
        Assert.Equal(expected, unet.CallMode.ToString());
    }

    [Fact]
    public void Generate_WithPlainRunNoArenaNoMemoryPatternNoSpinning_GivesTheSameImageAsTheDefaults()
    {
        var tuned = new PipelineOptions
        {
            ExecutionProvider = ExecutionProviderKind.Cpu,
            Session = new SessionTuning { IoBinding = false, CpuArena = false, MemoryPattern = false, AllowSpinning = false },
        };
        using var pipeline = DiffusionPipeline.Load(models.DefaultModel, tuned);
        var request = new GenerationRequest { Prompt = "a red apple", Width = 64, Height = 64, Steps = 4, Seed = 5 };

        var expected = models.Pipeline.Generate([request])[0].Rgb;
        var actual = pipeline.Generate([request])[0].Rgb;

        Assert.Equal(expected, actual);
    }
}
