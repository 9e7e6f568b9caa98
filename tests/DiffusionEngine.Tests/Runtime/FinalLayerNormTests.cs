using DiffusionEngine.Runtime;
using DiffusionEngine.Tests.TestSupport;
using DiffusionEngine.Tests.TinyModel;

namespace DiffusionEngine.Tests.Runtime;

/// <summary>The final LayerNorm clip skip needs: its formula, and finding its weights in an ONNX graph (the tiny model's LayerNormalization is covered by the pipeline tests).</summary>
public sealed class FinalLayerNormTests
{
    [Fact]
    public void Apply_NormalizesEachTokenThenScalesAndShifts()
    {
        var norm = new FinalLayerNorm([1f, 2f, 0.5f, 1f], [0f, 1f, 0f, -1f], epsilon: 0f);
        float[] states = [1f, 2f, 3f, 4f, 10f, 10f, 10f, 14f];

        norm.Apply(states);

        // Token 0: mean 2.5, variance 1.25; token 1: mean 11, variance 3.
        var s0 = 1 / MathF.Sqrt(1.25f);
        var s1 = 1 / MathF.Sqrt(3f);
        float[] expected = [-1.5f * s0, 2 * -0.5f * s0 + 1, 0.5f * 0.5f * s0, 1.5f * s0 - 1, -s1, 2 * -s1 + 1, 0.5f * -s1, 3 * s1 - 1];
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], states[i], 1e-5f);
    }

    [Fact]
    public void Read_ADecomposedLayerNorm_FindsItsScaleInFloatDataAndItsBiasInAConstantBehindACast()
    {
        using var directory = new TemporaryDirectory();
        var path = Path.Combine(directory.Path, "model.onnx");
        OnnxTestModel.WriteAffineOutput(path, "last_hidden_state", [1.5f, 0.5f, 2f], [0.25f, -1f, 3f]);

        var norm = FinalLayerNorm.Read(path, "last_hidden_state", hiddenSize: 3, decomposedEpsilon: 1e-6f);

        float[] states = [1f, 2f, 3f];
        norm.Apply(states);
        var scale = 1 / MathF.Sqrt(2f / 3f + 1e-6f);
        Assert.Equal([-1.5f * scale + 0.25f, -1f, 2f * scale + 3f], states);
        Assert.Equal(1e-6f, norm.Epsilon);
    }

    [Fact]
    public void Read_AnOutputThatIsAnInputPassedThrough_SaysNoNodeComputesIt()
    {
        using var directory = new TemporaryDirectory();
        var path = Path.Combine(directory.Path, "model.onnx");
        OnnxTestModel.WriteIdentity(path, "y", new OnnxTestModel.Tensor("x", OnnxTestModel.OnnxFloat, 1, 77, 8));

        var error = Assert.Throws<InvalidDataException>(() => FinalLayerNorm.Read(path, "y", 8, FinalLayerNorm.DefaultEpsilon));

        Assert.Equal("'y' is not computed by any node of the graph (it is a graph input, or an Identity or Cast of one)", error.Message);
    }

    [Fact]
    public void Read_WrongWidth_IsNotTakenForTheNorm()
    {
        using var directory = new TemporaryDirectory();
        var path = Path.Combine(directory.Path, "model.onnx");
        OnnxTestModel.WriteAffineOutput(path, "last_hidden_state", [1f, 1f, 1f], [0f, 0f, 0f]);

        var error = Assert.Throws<InvalidDataException>(() => FinalLayerNorm.Read(path, "last_hidden_state", hiddenSize: 4, 1e-5f));

        Assert.Equal("'last_hidden_state' is computed by a Add node, not by a LayerNormalization (or its Mul/Add decomposition) with constant 4-wide weights", error.Message);
    }
}
