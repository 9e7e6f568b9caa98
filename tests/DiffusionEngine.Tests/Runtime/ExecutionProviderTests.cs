using DiffusionEngine.Pipelines;
using DiffusionEngine.Runtime;
using DiffusionEngine.Tests.Pipelines;
using DiffusionEngine.Tests.TestSupport;
using Microsoft.Extensions.Logging;

namespace DiffusionEngine.Tests.Runtime;

/// <summary>
/// Provider selection on a machine without CUDA (CI and our build machines): <c>cuda</c> fails clearly, <c>auto</c> falls
/// back to CPU with exactly one warning. Where CUDA does load, the fallback tests have nothing to check and pass trivially.
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class ExecutionProviderTests(TinyModelFixture models)
{
    [Fact]
    public void Load_WithCudaOnAMachineWithoutCuda_FailsNamingCudaAndTheAlternatives()
    {
        if (CudaLoads()) return;

        var error = Assert.Throws<ExecutionProviderUnavailableException>(() =>
            DiffusionPipeline.Load(models.DefaultModel, new PipelineOptions { ExecutionProvider = ExecutionProviderKind.Cuda }));

        Assert.Equal(ExecutionProviderKind.Cuda, error.Provider);
        Assert.StartsWith("The CUDA execution provider is not available: ", error.Message);
        Assert.Contains("onnxruntime_providers_cuda", error.Message); // says which library (and, when found, which dependency) failed
        Assert.Contains("CUDA 13 and cuDNN 9", error.Message);
        Assert.Contains("'cpu' or 'auto'", error.Message);
    }

    [Fact]
    public void Load_WithAutoOnAMachineWithoutCuda_RunsOnCpuAndWarnsOnce()
    {
        if (CudaLoads()) return;
        using var logs = new CollectingLoggerFactory();

        using var pipeline = DiffusionPipeline.Load(models.DefaultModel, new PipelineOptions { ExecutionProvider = ExecutionProviderKind.Auto }, logs);

        Assert.Equal("CPU", pipeline.Model.ExecutionProvider);
        var warning = Assert.Single(logs.Entries, entry => entry.Level >= LogLevel.Warning);
        Assert.StartsWith("CUDA execution provider unavailable, running on CPU: ", warning.Message);
        Assert.Contains("onnxruntime_providers_cuda", warning.Message);
    }

    [Fact]
    public void Load_WithCpu_LogsNoWarningAndReportsCpu()
    {
        using var logs = new CollectingLoggerFactory();

        using var pipeline = DiffusionPipeline.Load(models.DefaultModel, new PipelineOptions { ExecutionProvider = ExecutionProviderKind.Cpu, IntraOpThreads = 1 }, logs);

        Assert.Equal("CPU", pipeline.Model.ExecutionProvider);
        Assert.DoesNotContain(logs.Entries, entry => entry.Level >= LogLevel.Warning);
        Assert.Single(logs.Entries, entry => entry.Message.StartsWith("Loaded model", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_WithNegativeThreadCount_IsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            DiffusionPipeline.Load(models.DefaultModel, new PipelineOptions { ExecutionProvider = ExecutionProviderKind.Cpu, IntraOpThreads = -1 }));
    }

    private static bool CudaLoads()
    {
        using var options = new Microsoft.ML.OnnxRuntime.SessionOptions();
        try
        {
            options.AppendExecutionProvider_CUDA(0);
            return true;
        }
        catch (Exception ex) when (ex is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }
}
