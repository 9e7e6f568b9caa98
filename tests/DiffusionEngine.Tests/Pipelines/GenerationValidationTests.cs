using DiffusionEngine.Pipelines;

namespace DiffusionEngine.Tests.Pipelines;

/// <summary>Step 1 of the pipeline: invalid requests and incompatible batches are rejected with the value named.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class GenerationValidationTests(TinyModelFixture models)
{
    private static GenerationRequest Valid => StableDiffusionPipelineTests.Request();

    [Theory]
    [InlineData(500, 64, "width must be a multiple of 8 but was 500")]
    [InlineData(64, 300, "height must be a multiple of 8 but was 300")]
    [InlineData(0, 64, "width must be positive but was 0")]
    [InlineData(64, -8, "height must be positive but was -8")]
    public void Generate_WithABadSize_NamesTheValue(int width, int height, string message)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => models.Pipeline.Generate([Valid with { Width = width, Height = height }]));

        Assert.StartsWith(message, error.Message);
    }

    [Fact]
    public void Generate_WithZeroSteps_NamesTheValue()
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => models.Pipeline.Generate([Valid with { Steps = 0 }]));

        Assert.StartsWith("steps must be at least 1 but was 0", error.Message);
    }

    [Fact]
    public void Generate_WithNaNGuidance_NamesTheValue()
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => models.Pipeline.Generate([Valid with { GuidanceScale = float.NaN }]));

        Assert.StartsWith("guidance scale must be a finite number but was NaN", error.Message);
    }

    [Fact]
    public void Generate_WithAnUndefinedRng_NamesTheValue()
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => models.Pipeline.Generate([Valid with { Rng = (RngKind)7 }]));

        Assert.StartsWith("rng must be Cpu or Gpu but was 7", error.Message);
    }

    [Fact]
    public void Generate_WithAnEmptyBatch_IsRejected()
    {
        Assert.ThrowsAny<ArgumentException>(() => models.Pipeline.Generate([]));
    }

    [Theory]
    [InlineData("width")]
    [InlineData("height")]
    [InlineData("steps")]
    [InlineData("scheduler")]
    public void Generate_WithRequestsThatDiffer_NamesTheField(string field)
    {
        var other = field switch
        {
            "width" => Valid with { Width = 128 },
            "height" => Valid with { Height = 128 },
            "steps" => Valid with { Steps = 5 },
            _ => Valid with { Scheduler = "euler" },
        };

        var error = Assert.ThrowsAny<ArgumentException>(() => models.Pipeline.Generate([Valid, other]));

        Assert.Contains($"every request of a batch must", error.Message);
        Assert.Contains(field, error.Message);
    }

    [Fact]
    public void Generate_WithAnUnknownScheduler_NamesItAndTheAcceptedOnes_BeforeRunningAnyModel()
    {
        var runsBefore = models.Pipeline.RunTimer.Calls;

        var error = Assert.ThrowsAny<ArgumentException>(() => models.Pipeline.Generate([Valid with { Scheduler = "no-such-scheduler" }]));

        Assert.StartsWith("scheduler must be one of ", error.Message);
        Assert.Contains("euler_a", error.Message);
        Assert.Contains("but was 'no-such-scheduler'", error.Message);
        Assert.Equal(runsBefore, models.Pipeline.RunTimer.Calls);
    }

    [Theory]
    [InlineData("euler_a")]
    [InlineData("DPM++ 2M Karras")]
    [InlineData("UniPCMultistepScheduler")]
    [InlineData("lcm")]
    public void Generate_WithARequestedScheduler_UsesIt(string scheduler)
    {
        var image = models.Pipeline.Generate([Valid with { Scheduler = scheduler, Steps = 2 }])[0];

        ImageAssert.NotFlat(image);
    }
}
