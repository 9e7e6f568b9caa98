using System.Numerics.Tensors;
using DiffusionEngine.Models;
using DiffusionEngine.Optimization;
using Onnx;

namespace DiffusionEngine.Runtime;

/// <summary>
/// A CLIP text encoder's final LayerNorm (transformers' <c>text_model.final_layer_norm</c>, OpenCLIP's <c>ln_final</c>):
/// <c>y = (x − mean(x)) / √(var(x) + ε) · γ + β</c> over each token's hidden vector (biased variance, as torch's
/// layer_norm). Clip skip needs it: A1111 (<c>sd_hijack_clip.py</c>, <c>encode_with_transformers</c>) and diffusers
/// (<c>encode_prompt</c> with clip_skip) condition SD 1.x/2.x on an earlier layer's hidden states passed through this
/// norm, while an ONNX export applies it only inside, to last_hidden_state. <see cref="Read"/> takes γ, β and ε from the
/// encoder's own graph; the caller checks the result against the export (<see cref="RelativeError"/>) before using it.
/// Immutable; <see cref="Apply"/> may run concurrently.
/// </summary>
internal sealed class FinalLayerNorm
{
    /// <summary>ε of transformers' CLIPTextConfig.layer_norm_eps and of ONNX's LayerNormalization when unspecified.</summary>
    public const float DefaultEpsilon = 1e-5f;

    private readonly float[] _scale;
    private readonly float[] _bias;

    public FinalLayerNorm(float[] scale, float[] bias, float epsilon)
    {
        if (scale.Length == 0 || bias.Length != scale.Length)
            throw new ArgumentException($"scale and bias must have the same, positive length but have {scale.Length} and {bias.Length}", nameof(bias));
        _scale = scale;
        _bias = bias;
        Epsilon = epsilon;
    }

    /// <summary>The hidden size γ and β cover.</summary>
    public int HiddenSize => _scale.Length;

    public float Epsilon { get; }

    /// <summary>Normalizes every token row of <paramref name="states"/> ([tokens, <see cref="HiddenSize"/>], row-major) in place.</summary>
    /// <exception cref="ArgumentException"><paramref name="states"/> is not a whole number of rows.</exception>
    public void Apply(Span<float> states)
    {
        var hidden = HiddenSize;
        if (states.Length % hidden != 0)
            throw new ArgumentException($"states must hold whole rows of {hidden} values but hold {states.Length}", nameof(states));
        for (var offset = 0; offset < states.Length; offset += hidden)
        {
            var row = states.Slice(offset, hidden);
            var mean = TensorPrimitives.Sum<float>(row) / hidden;
            TensorPrimitives.Subtract(row, mean, row);
            var variance = TensorPrimitives.SumOfSquares<float>(row) / hidden;
            TensorPrimitives.Multiply(row, 1f / MathF.Sqrt(variance + Epsilon), row);
            TensorPrimitives.MultiplyAdd(row, _scale, _bias, row);
        }
    }

    /// <summary>
    /// How far this norm applied to <paramref name="input"/> is from <paramref name="expected"/>: the root mean square of
    /// the difference over that of <paramref name="expected"/> (0 for an exact match; about 1 for an unrelated result).
    /// </summary>
    public double RelativeError(ReadOnlySpan<float> input, ReadOnlySpan<float> expected)
    {
        var normed = input.ToArray();
        Apply(normed);
        double difference = 0, reference = 0;
        for (var i = 0; i < normed.Length; i++)
        {
            var delta = (double)normed[i] - expected[i];
            difference += delta * delta;
            reference += (double)expected[i] * expected[i];
        }
        return reference == 0 ? (difference == 0 ? 0 : double.PositiveInfinity) : Math.Sqrt(difference / reference);
    }

    /// <summary>
    /// Finds the LayerNorm that produces <paramref name="outputName"/> in the ONNX graph at <paramref name="modelPath"/>
    /// (through Identity and Cast nodes): a LayerNormalization node (ONNX opset 17, or ONNX Runtime's fused
    /// LayerNormalization / SkipLayerNormalization) with constant scale and bias, or the decomposition older opsets export
    /// (<c>Add(Mul(normalized, γ), β)</c>, ε then from <paramref name="decomposedEpsilon"/>). The weights may be
    /// initializers (inline or external data) or Constant nodes, in float32 or float16. The graph is parsed whole
    /// (<see cref="OnnxModelDocument"/>), once, at load.
    /// </summary>
    /// <exception cref="InvalidDataException">The output is not computed that way, its weights are not <paramref name="hiddenSize"/>
    /// constants, or the file is no readable ONNX model; the message says what was found.</exception>
    public static FinalLayerNorm Read(string modelPath, string outputName, int hiddenSize, float decomposedEpsilon)
    {
        GraphIndex graph;
        try
        {
            graph = new GraphIndex(OnnxModelDocument.Load(modelPath));
        }
        catch (ModelLoadException ex)
        {
            throw new InvalidDataException(ex.Message, ex);
        }
        var node = ProducerThroughCasts(graph, outputName)
            ?? throw new InvalidDataException($"'{outputName}' is not computed by any node of the graph (it is a graph input, or an Identity or Cast of one)");
        switch (node.OpType)
        {
            case "LayerNormalization":
                return FromNode(graph, node, scaleInput: 1, biasInput: 2, hiddenSize);
            case "SkipLayerNormalization":
                return FromNode(graph, node, scaleInput: 2, biasInput: 3, hiddenSize);
            case "Add" when node.Input.Count == 2:
                for (var side = 0; side < 2; side++)
                {
                    if (Vector(graph, node.Input[side], hiddenSize) is not { } bias) continue;
                    var mul = ProducerThroughCasts(graph, node.Input[1 - side]);
                    if (mul is not { OpType: "Mul" } || mul.Input.Count != 2) continue;
                    var scale = Vector(graph, mul.Input[0], hiddenSize) ?? Vector(graph, mul.Input[1], hiddenSize);
                    if (scale is not null) return new FinalLayerNorm(scale, bias, decomposedEpsilon);
                }
                break;
        }
        throw new InvalidDataException(
            $"'{outputName}' is computed by a {node.OpType} node, not by a LayerNormalization (or its Mul/Add decomposition) with constant {hiddenSize}-wide weights");
    }

    private static FinalLayerNorm FromNode(GraphIndex graph, NodeProto node, int scaleInput, int biasInput, int hiddenSize)
    {
        if (GraphIndex.IntAttribute(node, "axis") is { } axis && axis is not (-1 or 2))
            throw new InvalidDataException($"the final {node.OpType} normalizes over axis {axis}; CLIP's normalizes the hidden axis (-1)");
        var scale = node.Input.Count > scaleInput ? Vector(graph, node.Input[scaleInput], hiddenSize) : null;
        if (scale is null) throw new InvalidDataException($"the final {node.OpType}'s scale is not a constant of {hiddenSize} values");
        var hasBias = node.Input.Count > biasInput && node.Input[biasInput].Length != 0;
        var bias = hasBias ? Vector(graph, node.Input[biasInput], hiddenSize) : new float[hiddenSize];
        if (bias is null) throw new InvalidDataException($"the final {node.OpType}'s bias is not a constant of {hiddenSize} values");
        return new FinalLayerNorm(scale, bias, GraphIndex.FloatAttribute(node, "epsilon") ?? DefaultEpsilon);
    }

    // A constant of exactly `length` values, followed back through Identity and Cast nodes (float16 exports cast their weights).
    private static float[]? Vector(GraphIndex graph, string value, int length)
    {
        for (var hops = 0; hops < 8; hops++)
        {
            if (graph.Constant(value) is { } tensor)
            {
                try
                {
                    return TensorValues.ElementCount(tensor) == length ? TensorValues.ReadFloats(graph.Document, tensor) : null;
                }
                catch (Exception ex) when (ex is NotSupportedException or IOException)
                {
                    throw new InvalidDataException($"the weights '{tensor.Name}' cannot be read: {ex.Message}", ex);
                }
            }
            var node = graph.Producer(value);
            if (node is not { OpType: "Identity" or "Cast" } || node.Input.Count == 0) return null;
            value = node.Input[0];
        }
        return null;
    }

    private static NodeProto? ProducerThroughCasts(GraphIndex graph, string value)
    {
        var node = graph.Producer(value);
        for (var hops = 0; node is { OpType: "Identity" or "Cast" } && node.Input.Count > 0 && hops < 8; hops++) node = graph.Producer(node.Input[0]);
        return node;
    }
}
