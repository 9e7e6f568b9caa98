using DiffusionEngine.Optimization;
using DiffusionEngine.Tests.TinyModel;
using DiffusionEngine.TinyModel.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Tests.Optimization;

/// <summary>
/// The rewrites on the subgraph shapes other exporters produce (the tiny model covers diffusers' MatMul → Mul → Softmax
/// UNet attention and CLIP's masked attention): each graph is optimised, then the original and the optimised graph run
/// on the same inputs in ONNX Runtime (CPU) and must agree; CUDA-only rewrites are checked for their structure.
/// </summary>
public sealed class FusionPatternTests : IDisposable
{
    private const int Tokens = 16, Heads = 2, HeadSize = 8, Channels = Heads * HeadSize;

    private readonly TemporaryDirectory _directory = new();

    [Fact]
    public void Attention_AsPyTorch2SdpaExportsIt_FusesWithTheShapeComputedScale()
    {
        var report = OptimizeAndCompare("sdpa", g =>
        {
            var (q, k, v) = Projections(g);
            var split = g.Int64Constant(0, 0, Heads, HeadSize);
            var q4 = g.Op("Transpose", [g.Op("Reshape", [q, split])], OnnxAttribute.Ints("perm", 0, 2, 1, 3));
            var kT = g.Op("Transpose", [g.Op("Reshape", [k, split])], OnnxAttribute.Ints("perm", 0, 2, 3, 1));
            var v4 = g.Op("Transpose", [g.Op("Reshape", [v, split])], OnnxAttribute.Ints("perm", 0, 2, 1, 3));
            // torch's SDPA: scale = 1/√E from the shape, applied as √scale to q and to kᵀ.
            var last = g.Op("Slice", [g.Op("Shape", [q4]), g.Int64Constant(-1), g.Int64Constant(long.MaxValue)]);
            var size = g.Op("Sqrt", [g.Op("Cast", [last], OnnxAttribute.Int("to", (long)OnnxElementType.Float))]);
            var rootScale = g.Op("Sqrt", [g.Op("Div", [g.Scalar(1f), size])]);
            var scores = g.Op("MatMul", [g.Op("Mul", [q4, rootScale]), g.Op("Mul", [kT, rootScale])]);
            return MergeHeads(g, g.Op("MatMul", [g.Op("Softmax", [scores], OnnxAttribute.Int("axis", -1)), v4]));
        });
        Assert.Equal(1, report.Fused["MultiHeadAttention (self)"]);
    }

    [Fact]
    public void Attention_InPyTorch1sThreeDimensionalLayoutWithDivScale_Fuses()
    {
        var report = OptimizeAndCompare("torch1", g =>
        {
            var (q, k, v) = Projections(g);
            var split = g.Int64Constant(0, 0, Heads, HeadSize);
            var flat = g.Int64Constant(-1, Tokens, HeadSize);
            string Heads3(string x) => g.Op("Reshape", [g.Op("Transpose", [g.Op("Reshape", [x, split])], OnnxAttribute.Ints("perm", 0, 2, 1, 3)), flat]);
            var kT = g.Op("Transpose", [Heads3(k)], OnnxAttribute.Ints("perm", 0, 2, 1));
            var scores = g.Op("Div", [g.Op("MatMul", [Heads3(q), kT]), g.Scalar(MathF.Sqrt(HeadSize))]);
            var context = g.Op("MatMul", [g.Op("Softmax", [scores], OnnxAttribute.Int("axis", -1)), Heads3(v)]);
            return MergeHeads(g, g.Op("Reshape", [context, g.Int64Constant(-1, Heads, Tokens, HeadSize)]));
        });
        Assert.Equal(1, report.Fused["MultiHeadAttention (self)"]);
    }

    [Fact]
    public void Softmax_ThatIsNotAttention_IsLeftAndReported()
    {
        var report = OptimizeAndCompare("softmax", g => g.Op("Softmax", [Projections(g).Q], OnnxAttribute.Int("axis", -1)));
        Assert.False(report.Fused.ContainsKey("MultiHeadAttention (self)"));
        Assert.Equal(1, report.Left["Softmax (attention not matched)"]);
    }

    [Theory]
    [InlineData(14)]
    [InlineData(17)]
    public void LayerNorm_WrittenOutAsOpset14ExportersDo_BecomesLayerNormalization(int opset)
    {
        var report = OptimizeAndCompare($"layernorm{opset}", opset: opset, body: g =>
        {
            var x = Projections(g).Q;
            var axes = OnnxAttribute.Ints("axes", -1);
            var centered = g.Op("Sub", [x, g.Op("ReduceMean", [x], axes)]);
            var variance = g.Op("ReduceMean", [g.Op("Pow", [centered, g.Scalar(2f)])], axes);
            var normalized = g.Op("Div", [centered, g.Op("Sqrt", [g.Op("Add", [variance, g.Scalar(1e-5f)])])]);
            return g.Op("Add", [g.Op("Mul", [normalized, g.Parameter("gamma", [Channels], 0.2f, 1f)]), g.Parameter("beta", [Channels], 0.1f)]);
        });
        Assert.Equal(1, report.Fused["LayerNormalization"]);
    }

    [Fact]
    public void GroupNormWithSilu_ForCuda_BecomesOneNhwcGroupNormBetweenTransposes()
    {
        var path = Write("groupnorm", new GraphBuilder("g", OnnxElementType.Float, OnnxElementType.Float, 1), g =>
        {
            var x = g.Input("x", OnnxElementType.Float, "batch", 320, 8, 8);
            var normalized = TinyModelLayers.GroupNorm(g, x, 320, 32);
            return g.Op("Mul", [normalized, g.Op("Sigmoid", [normalized])]);
        }, "x", 320);
        var document = OnnxModelDocument.Load(path);

        var report = GraphOptimizer.Optimize(document, "unet", new OptimizationOptions { Target = OptimizationTarget.Cuda });

        Assert.Equal(1, report.Fused["GroupNorm+SiLU"]);
        Assert.Equal(["Transpose", "GroupNorm", "Transpose", "Identity"], document.Graph.Node.Select(n => n.OpType));
        var groupNorm = document.Graph.Node[1];
        Assert.Equal("com.microsoft", groupNorm.Domain);
        Assert.Equal(1, groupNorm.Attribute.Single(a => a.Name == "activation").I);
        Assert.Equal(32, groupNorm.Attribute.Single(a => a.Name == "groups").I);
        Assert.Equal(1, groupNorm.Attribute.Single(a => a.Name == "channels_last").I);
        Assert.Equal([0L, 2, 3, 1], document.Graph.Node[0].Attribute.Single().Ints);
    }

    [Fact]
    public void GroupNorm_ForCpu_IsLeftAsItIs()
    {
        var path = Write("groupnorm-cpu", new GraphBuilder("g", OnnxElementType.Float, OnnxElementType.Float, 1), g =>
            TinyModelLayers.GroupNorm(g, g.Input("x", OnnxElementType.Float, "batch", 320, 8, 8), 320, 32), "x", 320);
        var report = GraphOptimizer.Optimize(OnnxModelDocument.Load(path), "unet", new OptimizationOptions());
        Assert.Equal(1, report.Left["InstanceNormalization (GroupNorm not fused)"]);
    }

    /// <summary>Optimises the graph for the CPU, then runs both on the same random input and requires max |Δ| ≤ 1e-4.</summary>
    private ComponentReport OptimizeAndCompare(string name, Func<GraphBuilder, string> body, int opset = 17)
    {
        var path = Write(name, new GraphBuilder(name, OnnxElementType.Float, OnnxElementType.Float, 7),
            g => body(g), "x", Channels, tokens: Tokens);
        if (opset != 17)
        {
            var original = OnnxModelDocument.Load(path);
            original.Model.OpsetImport.Single().Version = opset;
            path = Path.Combine(_directory.Path, $"{name}-opset{opset}.onnx");
            original.Save(path);
        }
        var document = OnnxModelDocument.Load(path);
        var report = GraphOptimizer.Optimize(document, name, new OptimizationOptions());
        var optimizedPath = Path.Combine(_directory.Path, name + "-optimized.onnx");
        document.Save(optimizedPath);

        var input = new float[2 * Tokens * Channels];
        var random = new Random(3);
        for (var i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 4 - 2);
        var expected = Run(path, input);
        var actual = Run(optimizedPath, input);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4, $"output {i}: {expected[i]} vs {actual[i]}");
        return report;
    }

    private string Write(string name, GraphBuilder g, Func<GraphBuilder, string> body, string inputName, int channels, int tokens = 0)
    {
        if (tokens > 0) g.Input(inputName, OnnxElementType.Float, "batch", tokens, channels);
        var output = body(g);
        g.Output(output, "y", OnnxElementType.Float);
        var path = Path.Combine(_directory.Path, name + ".onnx");
        OnnxModelWriter.Write(g.Build(), path, null);
        return path;
    }

    /// <summary>Bias-free q/k/v projections of the input "x" [batch, tokens, channels].</summary>
    private static (string Q, string K, string V) Projections(GraphBuilder g) =>
        (g.Op("MatMul", ["x", g.Parameter("q", [Channels, Channels], 0.4f)]),
         g.Op("MatMul", ["x", g.Parameter("k", [Channels, Channels], 0.4f)]),
         g.Op("MatMul", ["x", g.Parameter("v", [Channels, Channels], 0.4f)]));

    private static string MergeHeads(GraphBuilder g, string context4) =>
        g.Op("Reshape", [g.Op("Transpose", [context4], OnnxAttribute.Ints("perm", 0, 2, 1, 3)), g.Int64Constant(0, 0, Channels)]);

    private static float[] Run(string path, float[] input)
    {
        using var session = new InferenceSession(path);
        using var value = OrtValue.CreateTensorValueFromMemory(input, [2, Tokens, Channels]);
        using var options = new RunOptions();
        using var outputs = session.Run(options, ["x"], [value], ["y"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose() => _directory.Dispose();
}

/// <summary>The tiny model's own GroupNorm builder (Reshape → InstanceNormalization → Reshape → Mul → Add), as PyTorch exports GroupNorm.</summary>
internal static class TinyModelLayers
{
    public static string GroupNorm(GraphBuilder g, string x, int channels, int groups) =>
        DiffusionEngine.TinyModel.Graphs.Layers.GroupNorm(g, x, channels, groups, 1e-5f, "norm");
}
