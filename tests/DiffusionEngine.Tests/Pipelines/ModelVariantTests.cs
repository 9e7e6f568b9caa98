using DiffusionEngine.Pipelines;
using DiffusionEngine.Runtime;
using DiffusionEngine.TinyModel;

namespace DiffusionEngine.Tests.Pipelines;

/// <summary>
/// Every dtype/rank variant real exports come in (architecture.md's table), external-data weights and fp16 models
/// load and generate: input_ids int32|int64, timestep int64 [batch] | float scalar, float32|float16 tensors.
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class ModelVariantTests(TinyModelFixture models)
{
    public static TheoryData<ModelDataType, InputIdsType, TimestepInput, bool> Variants => new()
    {
        { ModelDataType.Float32, InputIdsType.Int64, TimestepInput.Int64Batch, false },
        { ModelDataType.Float32, InputIdsType.Int32, TimestepInput.Float32Scalar, false },
        { ModelDataType.Float32, InputIdsType.Int32, TimestepInput.Int64Batch, true },
        { ModelDataType.Float16, InputIdsType.Int32, TimestepInput.Int64Batch, false },
        { ModelDataType.Float16, InputIdsType.Int64, TimestepInput.Float32Scalar, true },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Variant_LoadsAndGeneratesADeterministicImage(ModelDataType dataType, InputIdsType inputIds, TimestepInput timestep, bool externalData)
    {
        var directory = models.ModelFor(new TinyModelOptions { DataType = dataType, InputIds = inputIds, Timestep = timestep, ExternalData = externalData });
        using var pipeline = DiffusionPipeline.Load(directory, new PipelineOptions { ExecutionProvider = ExecutionProviderKind.Cpu });
        var request = StableDiffusionPipelineTests.Request(steps: 2);

        GenerationRequest[] batch = [request, request with { Seed = 43, GuidanceScale = 3f }];

        var first = pipeline.Generate(batch);
        var again = pipeline.Generate(batch);
        var alone = pipeline.Generate([request])[0];

        ImageAssert.NotFlat(first[0]);
        ImageAssert.NotFlat(first[1]);
        Assert.Equal(first[0].Rgb, again[0].Rgb);
        Assert.Equal(first[1].Rgb, again[1].Rgb);
        Assert.True(ImageAssert.MaxAbsoluteDifference(alone, first[0]) <= 1, "image 0 of the batch differs from the same request run alone");
    }

    [Fact]
    public void Variant_WithExternalData_KeepsTheWeightsOutOfTheOnnxFile()
    {
        var directory = models.ModelFor(new TinyModelOptions { ExternalData = true });

        Assert.True(File.Exists(Path.Combine(directory, "unet", TinyModelBuilder.ExternalDataFileName)));
    }

    [Fact]
    public void Variant_Float32ModelsWithOtherInputTypes_GiveTheSameImageAsTheDefault()
    {
        // The weights do not depend on how input_ids are typed, so the image must not either.
        using var int64Ids = DiffusionPipeline.Load(
            models.ModelFor(new TinyModelOptions { InputIds = InputIdsType.Int64 }), new PipelineOptions { ExecutionProvider = ExecutionProviderKind.Cpu });
        var request = StableDiffusionPipelineTests.Request(steps: 2);

        var expected = models.Pipeline.Generate([request])[0];
        var actual = int64Ids.Generate([request])[0];

        Assert.True(ImageAssert.MaxAbsoluteDifference(expected, actual) <= 1);
    }
}
