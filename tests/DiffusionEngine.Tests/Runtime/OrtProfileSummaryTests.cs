using DiffusionEngine.Pipelines;
using DiffusionEngine.Runtime;
using DiffusionEngine.Tests.Pipelines;

namespace DiffusionEngine.Tests.Runtime;

/// <summary>
/// <see cref="OrtProfileSummary"/> over a real ONNX Runtime profile of the tiny model's UNet (written by
/// <see cref="UNetBenchmark.Measure"/> with <see cref="SessionTuning.ProfilePrefix"/>), and its FLOP formulas.
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class OrtProfileSummaryTests(TinyModelFixture models)
{
    private string Profile(int calls)
    {
        var directory = Directory.CreateTempSubdirectory("ort-profile-").FullName;
        var options = new PipelineOptions
        {
            ExecutionProvider = ExecutionProviderKind.Cpu,
            IntraOpThreads = 1,
            Session = new SessionTuning { ProfilePrefix = Path.Combine(directory, "unet") },
        };
        var result = UNetBenchmark.Measure(Path.Combine(models.DefaultModel, "unet", "model.onnx"), options, batch: 2, latentSize: 8, calls);
        Assert.NotNull(result.ProfilePath);
        Assert.StartsWith(Path.Combine(directory, "unet"), Path.GetFullPath(result.ProfilePath));
        return result.ProfilePath;
    }

    [Fact]
    public void Read_ARealUNetProfile_LeavesOutTheFirstCallAndSplitsTheKernelTimeByOpType()
    {
        var path = Profile(calls: 3);

        var summary = OrtProfileSummary.Read(path);
        var all = OrtProfileSummary.Read(path, skipCalls: 0);

        Assert.Equal((2, 1), (summary.CallsCounted, summary.CallsSkipped));
        Assert.Equal((3, 0), (all.CallsCounted, all.CallsSkipped));
        Assert.Equal(1.0, summary.OpTypes.Sum(o => o.Share), 9);
        Assert.Equal(summary.KernelMicrosecondsPerCall, summary.OpTypes.Sum(o => o.MicrosecondsPerCall), 6);
        // Kernels run inside model_run, one after another (sequential executor).
        Assert.InRange(summary.KernelMicrosecondsPerCall, 1, summary.RunMicrosecondsPerCall);
        // Noise only adds time: each node's fastest run is at most its mean, and more calls can only lower it.
        Assert.All(summary.OpTypes, o => Assert.InRange(o.FastestMicrosecondsPerCall, 0, o.MicrosecondsPerCall + 1e-6));
        Assert.All(summary.OpTypes, o => Assert.InRange(Assert.Single(all.OpTypes, a => a.OpType == o.OpType).FastestMicrosecondsPerCall, 0, o.FastestMicrosecondsPerCall + 1e-6));
        Assert.Equal(summary.OpTypes.OrderByDescending(o => o.MicrosecondsPerCall).Select(o => o.OpType), summary.OpTypes.Select(o => o.OpType));

        var conv = Assert.Single(summary.OpTypes, o => o.OpType == "Conv");
        Assert.True(conv.FlopsPerCall > 0 && conv.GflopsPerSecond > 0);
        Assert.True(conv.FastestGflopsPerSecond >= conv.GflopsPerSecond - 1e-9);
        // Every call has the same shapes: per-call FLOPs and node counts do not depend on which calls are summed.
        foreach (var op in summary.OpTypes)
        {
            var same = Assert.Single(all.OpTypes, o => o.OpType == op.OpType);
            Assert.Equal(op.Nodes, same.Nodes);
            Assert.Equal(op.FlopsPerCall ?? -1, same.FlopsPerCall ?? -1, 3);
        }
        Assert.All(summary.OpTypes.Where(o => o.OpType is "Reshape" or "Add" or "Softmax"), o => Assert.Null(o.FlopsPerCall));
    }

    [Fact]
    public void Read_WhenAskedToSkipEveryCall_StillCountsTheLastOne()
    {
        var summary = OrtProfileSummary.Read(Profile(calls: 2), skipCalls: 5);

        Assert.Equal((1, 1), (summary.CallsCounted, summary.CallsSkipped));
        Assert.NotEmpty(summary.OpTypes);
    }

    [Fact]
    public void Read_OfAFileThatIsNoProfile_ThrowsInvalidDataNamingIt()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("ort-profile-").FullName, "not-a-profile.json");
        File.WriteAllText(path, """{"cat":"Session"}""");

        var ex = Assert.Throws<InvalidDataException>(() => OrtProfileSummary.Read(path));
        Assert.Contains(path, ex.Message);

        File.WriteAllText(path, "[]");
        Assert.Contains("no model_run", Assert.Throws<InvalidDataException>(() => OrtProfileSummary.Read(path)).Message);
    }

    [Fact]
    public void Flops_OfAConv_IsTwiceOutputElementsTimesTheWeightsPerOutputChannel()
    {
        // [2, 4, 8, 8] * [32, 4, 3, 3] → [2, 32, 8, 8]: each output element is 4·3·3 multiply-adds.
        var flops = OrtProfileSummary.Flops("Conv", [[2, 4, 8, 8], [32, 4, 3, 3], [32]], [[2, 32, 8, 8]]);

        Assert.Equal(2.0 * (2 * 32 * 8 * 8) * (4 * 3 * 3), flops);
        Assert.Equal(2.0 * (2 * 32 * 8 * 8) * (1 * 3 * 3), OrtProfileSummary.Flops("FusedConv", [[2, 32, 8, 8], [32, 1, 3, 3]], [[2, 32, 8, 8]]));
        Assert.Null(OrtProfileSummary.Flops("Conv", [[2, 4, 8, 8], [32]], [[2, 32, 8, 8]])); // weight shape not recorded
    }

    [Fact]
    public void Flops_OfMatrixProducts_UseTheReductionLengthOfA_EvenWhenBWasPrepackedOrATransposed()
    {
        Assert.Equal(2.0 * (2 * 77 * 64) * 32, OrtProfileSummary.Flops("MatMul", [[2, 77, 32]], [[2, 77, 64]]));
        Assert.Equal(2.0 * (2 * 128) * 32, OrtProfileSummary.Flops("Gemm", [[2, 32], [128]], [[2, 128]]));
        // FusedMatMul with transA: A is [.., K, M].
        Assert.Equal(2.0 * (4 * 16 * 10) * 32, OrtProfileSummary.Flops("FusedMatMul", [[4, 32, 16], [4, 32, 10]], [[4, 16, 10]]));
        Assert.Null(OrtProfileSummary.Flops("Softmax", [[4, 16, 16]], [[4, 16, 16]]));
    }

    [Fact]
    public void Flops_OfMultiHeadAttention_CountBothProducts()
    {
        // Cross-attention: 4096 queries of width 320 against 77 keys/values.
        Assert.Equal(2.0 * 2 * 4096 * 77 * (320 + 320),
            OrtProfileSummary.Flops("MultiHeadAttention", [[2, 4096, 320], [2, 77, 320], [2, 77, 320]], [[2, 4096, 320]]));
        // Keys and values already split into heads: [B, N, S, H].
        Assert.Equal(2.0 * 2 * 16 * 77 * (8 * 40 + 8 * 40),
            OrtProfileSummary.Flops("MultiHeadAttention", [[2, 16, 320], [2, 8, 77, 40], [2, 8, 77, 40]], [[2, 16, 320]]));
    }
}
