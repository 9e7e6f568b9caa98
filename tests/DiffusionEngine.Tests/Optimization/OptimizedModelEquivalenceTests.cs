using DiffusionEngine.Optimization;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Runtime;
using DiffusionEngine.Tests.TinyModel;
using DiffusionEngine.TinyModel;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Tests.Optimization;

/// <summary>
/// The optimised tiny model computes what the original computes (issue 14 point 2): per component on the same inputs
/// (fp32: max |Δ| ≤ 1e-3 on the UNet output) and as whole images through the pipeline (PSNR ≥ 40 dB at fp32).
/// </summary>
public sealed class OptimizedModelEquivalenceTests(OptimizedTinyModelFixture models) : IClassFixture<OptimizedTinyModelFixture>
{
    [Fact]
    public void Optimize_TinyModel_FusesEveryAttentionAndActivationAndLeavesNoSoftmax()
    {
        var unet = models.Report.Components.Single(c => c.Component == "unet");
        // Tiny UNet: 4 transformer blocks, each one self- and one cross-attention; GEGLU's GELU; SiLUs.
        Assert.Equal(4, unet.Fused["MultiHeadAttention (self)"]);
        Assert.Equal(4, unet.Fused["MultiHeadAttention (cross)"]);
        Assert.Equal(4, unet.Fused["Gelu"]);
        Assert.True(unet.Fused["QuickGelu (SiLU)"] > 10);
        Assert.False(unet.Left.ContainsKey("Softmax (attention not matched)"));

        var text = models.Report.Components.Single(c => c.Component == "text_encoder");
        Assert.Equal(2, text.Fused["MultiHeadAttention (self)"]); // causal mask → attention_bias
        Assert.Equal(2, text.Fused["QuickGelu"]);
        Assert.Empty(text.Left);

        var vae = models.Report.Components.Single(c => c.Component == "vae_decoder");
        Assert.Equal(1, vae.Fused["MultiHeadAttention (self)"]);
        Assert.True(File.Exists(Path.Combine(models.Optimized, ModelOptimizer.ReportFileName)));
    }

    [Fact]
    public void OptimizedUNet_Fp32_MaxAbsDifferenceAtMostOneThousandth()
    {
        var (original, optimized) = RunBoth(models.Optimized, ModelDataType.Float32);
        var maxDiff = MaxAbsDifference(original, optimized);
        Assert.True(maxDiff <= 1e-3, $"UNet max |Δ| = {maxDiff:E3}");
    }

    [Fact]
    public void OptimizedTextEncoderAndVae_Fp32_MatchTheOriginal()
    {
        using var originalText = new InferenceSession(Path.Combine(models.Original, "text_encoder", "model.onnx"));
        using var optimizedText = new InferenceSession(Path.Combine(models.Optimized, "text_encoder", "model.onnx"));
        using var originalVae = new InferenceSession(Path.Combine(models.Original, "vae_decoder", "model.onnx"));
        using var optimizedVae = new InferenceSession(Path.Combine(models.Optimized, "vae_decoder", "model.onnx"));
        var a = Runner(originalText, null!, originalVae, ModelDataType.Float32);
        var b = Runner(optimizedText, null!, optimizedVae, ModelDataType.Float32);
        long[] ids = [510, 70, 72, 79, 84, 79, 600, 511];
        Assert.True(MaxAbsDifference(a.EncodeText(ids, 2), b.EncodeText(ids, 2)) <= 1e-3);
        var latents = TinyModelRunner.GaussianLatents(1, 8, seed: 3);
        Assert.True(MaxAbsDifference(a.Decode(latents, 1), b.Decode(latents, 1)) <= 1e-3);
    }

    [Fact]
    public void OptimizedModel_Fp32_WholeImagePsnrAtLeast40Decibels()
    {
        var psnr = ImagePsnr(models.Optimized);
        Assert.True(psnr >= 40, $"PSNR {psnr:F1} dB");
    }

    [Fact]
    public void OptimizedModel_Fp16_KeepsFloat32InputsAndOutputsAndStaysClose()
    {
        var unet = models.Float16Report.Components.Single(c => c.Component == "unet");
        Assert.True(unet.Float16Nodes > 100);
        Assert.True(unet.Float32Kept.ContainsKey("Sin") && unet.Float32Kept.ContainsKey("Cos"), "the timestep embedding stays float32");
        var text = models.Float16Report.Components.Single(c => c.Component == "text_encoder");
        Assert.True(text.Float32Kept.ContainsKey("ArgMax") && text.Float32Kept.ContainsKey("Cast"), "the pooled output's arg-max over ids stays float32");
        using var session = new InferenceSession(Path.Combine(models.Float16, "unet", "model.onnx"));
        Assert.All(session.InputMetadata.Values.Where(m => m.ElementDataType is Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float16), _ => Assert.Fail("a float16 input"));
        Assert.Equal(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float, session.OutputMetadata["out_sample"].ElementDataType);

        var (original, half) = RunBoth(models.Float16, ModelDataType.Float32);
        var maxDiff = MaxAbsDifference(original, half);
        Assert.True(maxDiff <= 5e-2, $"fp16 UNet max |Δ| = {maxDiff:E3}");
        var psnr = ImagePsnr(models.Float16);
        Assert.True(psnr >= 30, $"fp16 PSNR {psnr:F1} dB");
    }

    private (float[] Original, float[] Optimized) RunBoth(string optimizedFolder, ModelDataType dataType)
    {
        using var original = new InferenceSession(Path.Combine(models.Original, "unet", "model.onnx"));
        using var optimized = new InferenceSession(Path.Combine(optimizedFolder, "unet", "model.onnx"));
        var latents = TinyModelRunner.GaussianLatents(2, 16, seed: 7);
        var states = new float[2 * TinyModelRunner.Tokens * 32]; // [2, 77, hidden 32]
        var random = new Random(9);
        for (var i = 0; i < states.Length; i++) states[i] = (float)(random.NextDouble() * 2 - 1);
        var a = Runner(null!, original, null!, dataType).PredictNoise(latents, states, 2, 801);
        var b = Runner(null!, optimized, null!, dataType).PredictNoise(latents, states, 2, 801);
        return (a, b);
    }

    private double ImagePsnr(string optimizedFolder)
    {
        using var original = DiffusionPipeline.Load(models.Original, new PipelineOptions { ExecutionProvider = ExecutionProviderKind.Cpu });
        using var optimized = DiffusionPipeline.Load(optimizedFolder, new PipelineOptions { ExecutionProvider = ExecutionProviderKind.Cpu });
        var request = new GenerationRequest { Prompt = "a lighthouse at dusk", Width = 64, Height = 64, Steps = 8, Seed = 42 };
        var a = original.Generate([request])[0].Rgb;
        var b = optimized.Generate([request])[0].Rgb;
        double squared = 0;
        for (var i = 0; i < a.Length; i++) squared += (a[i] - b[i]) * (double)(a[i] - b[i]);
        var mse = squared / a.Length;
        return mse == 0 ? double.PositiveInfinity : 10 * Math.Log10(255.0 * 255.0 / mse);
    }

    private static TinyModelRunner Runner(InferenceSession text, InferenceSession unet, InferenceSession vae, ModelDataType dataType) =>
        new(text, unet, vae, dataType, InputIdsType.Int32, TimestepInput.Int64Batch);

    private static double MaxAbsDifference(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (var i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }
}
