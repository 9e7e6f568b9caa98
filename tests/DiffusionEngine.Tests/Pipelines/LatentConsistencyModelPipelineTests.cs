using DiffusionEngine.Pipelines;
using DiffusionEngine.Pipelines.Steps;
using DiffusionEngine.TinyModel;

namespace DiffusionEngine.Tests.Pipelines;

/// <summary>LCM on the tiny-lcm model: the guidance-scale embedding as timestep_cond, no unconditional pass.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class LatentConsistencyModelPipelineTests(TinyModelFixture models)
{
    private DiffusionPipeline Pipeline => models.PipelineFor(TinyModelPreset.TinyLcm);

    private static GenerationRequest Request(ulong seed = 42, float guidance = 8.5f) =>
        new() { Prompt = "a red fox in the snow", Seed = seed, GuidanceScale = guidance, Width = 64, Height = 64, Steps = 4 };

    // diffusers' LatentConsistencyModelPipeline.get_guidance_scale_embedding(w, embedding_dim=d), float32 throughout,
    // called with w = guidance_scale − 1:
    //   w = w * 1000.0
    //   half_dim = d // 2
    //   emb = torch.log(torch.tensor(10000.0)) / (half_dim - 1)
    //   emb = torch.exp(torch.arange(half_dim, dtype=torch.float32) * -emb)
    //   emb = w[:, None] * emb[None, :]
    //   emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=1)      (zero-padded by one when d is odd)
    // The expected values below were computed from that formula with every intermediate rounded to float32
    // (Python: struct.pack('f', …) after each operation).
    [Theory]
    [InlineData(32, 0, -0.8512359261512756)]   // sin(7500 · 1)
    [InlineData(32, 1, -0.16545964777469635)]
    [InlineData(32, 2, -0.48850685358047485)]
    [InlineData(32, 7, 0.9887696504592896)]
    [InlineData(32, 15, 0.6816387176513672)]
    [InlineData(32, 16, -0.5247832536697388)]  // cos(7500 · 1)
    [InlineData(32, 17, 0.9862165451049805)]
    [InlineData(32, 31, 0.731688916683197)]
    [InlineData(256, 1, 0.8421311974525452)]   // LCM_Dreamshaper_v7's time_cond_proj_dim
    [InlineData(256, 64, -0.07243754714727402)]
    [InlineData(256, 129, 0.5392727255821228)]
    [InlineData(256, 255, 0.731688916683197)]
    public void GuidanceScaleEmbedding_OfGuidance8Point5_MatchesDiffusersFormula(int width, int index, double expected)
    {
        var embedding = new float[width];

        GuidanceScaleEmbedding.Fill(8.5f, embedding);

        Assert.Equal(expected, embedding[index], 1e-6);
    }

    [Fact]
    public void GuidanceScaleEmbedding_OfGuidanceOne_IsSinesOfZeroThenCosinesOfZero()
    {
        var embedding = new float[33];

        GuidanceScaleEmbedding.Fill(1f, embedding);

        Assert.All(embedding[..16], value => Assert.Equal(0f, value));
        Assert.All(embedding[16..32], value => Assert.Equal(1f, value));
        Assert.Equal(0f, embedding[32]); // odd width: zero-padded
    }

    [Fact]
    public void Generate_NeverRunsAnUnconditionalPass_AndIgnoresTheNegativePrompt()
    {
        List<int> sizes = [];
        sizes = PipelineProbes.CaptureUNetBatchSizes(() =>
        {
            var plain = Pipeline.Generate([Request(), Request(seed: 2)]);
            var negative = Pipeline.Generate([Request() with { NegativePrompt = "a lighthouse" }, Request(seed: 2)]);
            Assert.Equal(plain[0].Rgb, negative[0].Rgb);
        });

        Assert.Equal([2, 2], sizes);
    }

    [Fact]
    public void Generate_TheGuidanceScaleChangesTheImageThroughTimestepCond()
    {
        var high = Pipeline.Generate([Request(guidance: 8.5f)])[0];
        var low = Pipeline.Generate([Request(guidance: 2f)])[0];

        Assert.True(ImageAssert.MaxAbsoluteDifference(high, low) > 0);
    }

    [Fact]
    public void Generate_IsDeterministic_AndBatchesRequestsOfAnyGuidanceLikeAlone()
    {
        GenerationRequest[] batch = [Request(seed: 1, guidance: 8.5f), Request(seed: 2, guidance: 1f), Request(seed: 3, guidance: 4f) with { Rng = RngKind.Gpu }];

        var together = Pipeline.Generate(batch);

        ImageAssert.NotFlat(together[0]);
        Assert.Equal(together[0].Rgb, Pipeline.Generate(batch)[0].Rgb);
        ImageAssert.EachEqualsItsRequestAlone(Pipeline, batch, together);
    }

    [Fact]
    public void Generate_WithAnInitImage_SaysLcmModelsTakeNone()
    {
        var error = Assert.Throws<ArgumentException>(() => Pipeline.Generate([Request() with { InitImage = TestImages.Gradient(64, 64) }]));

        Assert.StartsWith("this model (lcm) cannot run img2img: it supports txt2img (image inputs are not supported for LCM models)", error.Message);
    }
}
