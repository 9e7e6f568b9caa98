using System.Buffers;
using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using DiffusionEngine.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionEngine.Runtime;

/// <summary>
/// A CLIP text encoder: <c>input_ids</c> int32 or int64 [batch, sequence] → <c>last_hidden_state</c> float32 or
/// float16 [batch, sequence, hidden], and, as Optimum exports them (CLIPTextOnnxConfig /
/// CLIPTextWithProjectionOnnxConfig), a pooled output (<c>pooler_output</c> of CLIPTextModel, <c>text_embeds</c> of
/// CLIPTextModelWithProjection) [batch, width] and, when exported with hidden states, <c>hidden_states.0</c> (the
/// embeddings) to <c>hidden_states.N</c> (the output of layer N, before the final LayerNorm). Runs once per
/// generation, so it may allocate.
/// </summary>
internal sealed class TextEncoderModel : OnnxComponent
{
    public const string InputIdsName = "input_ids";
    public const string HiddenStateName = "last_hidden_state";
    public const string HiddenStatesPrefix = "hidden_states.";
    public const string TextEmbedsName = "text_embeds";
    public const string PoolerOutputName = "pooler_output";

    private readonly string[] _inputNames = [InputIdsName];

    private TextEncoderModel(InferenceSession session, string modelPath, string componentName, OrtRunTimer timer)
        : base(session, modelPath, componentName, timer)
    {
        var inputIds = RequireInput(InputIdsName);
        RequireTensor("input", InputIdsName, inputIds, [TensorElementType.Int32, TensorElementType.Int64], [2], "int32 or int64 [batch, sequence]");
        RejectUnknownInputs(InputIdsName);
        InputIdsType = inputIds.ElementDataType;
        SequenceLength = FixedDimension(inputIds, 1);

        var (outputName, output) = RequireOutput(HiddenStateName);
        RequireTensor("output", outputName, output, FloatTypes, [3], "float32 or float16 [batch, sequence, hidden]");
        LastHiddenStateName = outputName;

        var layers = -1;
        foreach (var (name, metadata) in Session.OutputMetadata)
        {
            if (!name.StartsWith(HiddenStatesPrefix, StringComparison.Ordinal)) continue;
            RequireTensor("output", name, metadata, FloatTypes, [3], "float32 or float16 [batch, sequence, hidden]");
            if (int.TryParse(name.AsSpan(HiddenStatesPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var index)) layers = Math.Max(layers, index);
        }
        HiddenLayerCount = layers >= 1 ? layers : null;

        PooledOutputName = Session.OutputMetadata.ContainsKey(TextEmbedsName) ? TextEmbedsName
            : Session.OutputMetadata.ContainsKey(PoolerOutputName) ? PoolerOutputName
            : null;
        if (PooledOutputName is not null)
        {
            RequireTensor("output", PooledOutputName, Session.OutputMetadata[PooledOutputName], FloatTypes, [2], "float32 or float16 [batch, width]");
        }
    }

    public TensorElementType InputIdsType { get; }

    /// <summary>The sequence length the export fixed, or null when it is dynamic.</summary>
    public int? SequenceLength { get; }

    /// <summary>The output the SD pipelines condition on: last_hidden_state, else the model's first output (older exports name it otherwise).</summary>
    public string LastHiddenStateName { get; }

    /// <summary>N of the exported <c>hidden_states.0 … hidden_states.N</c> (the number of transformer layers), or null when they were not exported.</summary>
    public int? HiddenLayerCount { get; }

    /// <summary><c>text_embeds</c> (with projection) or <c>pooler_output</c>, whichever the export has, or null.</summary>
    public string? PooledOutputName { get; }

    /// <summary>
    /// The output <c>hidden_states.{layers − skip}</c>: with <paramref name="skip"/> 1 the penultimate layer's output,
    /// what SDXL conditions on (diffusers' <c>hidden_states[-2]</c>).
    /// </summary>
    /// <exception cref="ModelLoadException">The export has no hidden_states outputs.</exception>
    public string HiddenStatesOutput(int skip)
    {
        if (HiddenLayerCount is not { } layers || skip > layers)
        {
            throw new ModelLoadException(ModelPath,
                $"the {ComponentName} model has no '{HiddenStatesPrefix}N' outputs (its outputs are: {string.Join(", ", Session.OutputMetadata.Keys)}); " +
                "this pipeline needs the hidden states of the text encoder's layers: export it with them (Optimum does for SDXL)");
        }
        return HiddenStatesPrefix + (layers - skip).ToString(CultureInfo.InvariantCulture);
    }

    public static TextEncoderModel Load(OrtSessionFactory sessions, string modelPath, OrtRunTimer timer, string componentName = "text_encoder") =>
        LoadComponent(sessions, modelPath, session => new TextEncoderModel(session, modelPath, componentName, timer));

    /// <summary>
    /// The final LayerNorm, which clip skip on SD 1.x/2.x applies to an earlier layer's hidden states; null until
    /// <see cref="LoadFinalLayerNorm"/> succeeded.
    /// </summary>
    public FinalLayerNorm? FinalNorm { get; private set; }

    /// <summary>
    /// Reads the final LayerNorm from this model's graph (<see cref="FinalLayerNorm.Read"/>) and checks it: applied to
    /// <c>hidden_states.N</c> of <paramref name="probeIds"/> (one padded row) it must reproduce <c>last_hidden_state</c>
    /// to within float16 or float32 rounding. On success <see cref="FinalNorm"/> is set and the result is null;
    /// otherwise the result says why the norm is not available (no hidden states, not found, or not matching).
    /// </summary>
    /// <param name="probeIds">One row of token ids to check with (a prompt's first chunk).</param>
    /// <param name="configEpsilon">ε from the encoder's config.json (layer_norm_eps), used when the graph decomposes the norm.</param>
    /// <param name="runOptions">For the check's encoder run.</param>
    public string? LoadFinalLayerNorm(ReadOnlySpan<int> probeIds, float? configEpsilon, RunOptions runOptions)
    {
        if (HiddenLayerCount is not { } layers)
        {
            return $"its {ComponentName} was exported without the '{HiddenStatesPrefix}N' outputs (its outputs are: {string.Join(", ", Session.OutputMetadata.Keys)}); " +
                "export it with output_hidden_states (an Optimum export of SD 1.x/2.x has only last_hidden_state and pooler_output)";
        }
        var lastLayer = HiddenStatesPrefix + layers.ToString(CultureInfo.InvariantCulture);
        FinalLayerNorm norm;
        try
        {
            var outputs = Encode(runOptions, Array.ConvertAll(probeIds.ToArray(), id => (long)id), 1, probeIds.Length, [LastHiddenStateName, lastLayer]);
            try
            {
                var hiddenSize = outputs[0].Width;
                norm = FinalLayerNorm.Read(ModelPath, LastHiddenStateName, hiddenSize, configEpsilon ?? FinalLayerNorm.DefaultEpsilon);
                var length = probeIds.Length * hiddenSize;
                var error = norm.RelativeError(outputs[1].Values.AsSpan(0, length), outputs[0].Values.AsSpan(0, length));
                var tolerance = Session.OutputMetadata[LastHiddenStateName].ElementDataType == TensorElementType.Float16 ? 1e-2 : 1e-4;
                if (!(error <= tolerance))
                {
                    return $"the final layer norm read from {ComponentName}/model.onnx does not turn {lastLayer} into {LastHiddenStateName} " +
                        $"(relative difference {error.ToString("G3", CultureInfo.InvariantCulture)}), so earlier layers cannot be normalized as the last one is";
                }
            }
            finally
            {
                foreach (var output in outputs) ArrayPool<float>.Shared.Return(output.Values);
            }
        }
        catch (InvalidDataException ex)
        {
            return $"the final layer norm of {ComponentName}/model.onnx could not be read: {ex.Message}";
        }
        FinalNorm = norm;
        return null;
    }

    /// <summary>
    /// Encodes <paramref name="rows"/> rows of <paramref name="sequenceLength"/> token ids each and returns the outputs
    /// <paramref name="outputNames"/> in that order, each as float32 <c>[rows, …, Width]</c> in the first elements of an
    /// array rented from <see cref="ArrayPool{T}.Shared"/> (it may be longer): the caller owns the arrays and returns them
    /// to that pool.
    /// </summary>
    public EncoderOutput[] Encode(RunOptions runOptions, long[] tokenIds, int rows, int sequenceLength, string[] outputNames)
    {
        long[] shape = [rows, sequenceLength];
        using var input = InputIdsType == TensorElementType.Int64
            ? OrtValue.CreateTensorValueFromMemory(tokenIds, shape)
            : OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(tokenIds, id => checked((int)id)), shape);
        using var values = Run(runOptions, _inputNames, [input], outputNames);
        var outputs = new EncoderOutput[outputNames.Length];
        for (var i = 0; i < outputs.Length; i++)
        {
            var floats = ToRentedSingles(values[i], out var outputShape);
            outputs[i] = new EncoderOutput(floats, checked((int)outputShape[^1]));
        }
        return outputs;
    }

    /// <summary>A float32 copy of <paramref name="value"/> (converted from float16 if needed) in a rented array.</summary>
    private static float[] ToRentedSingles(OrtValue value, out long[] shape)
    {
        var info = value.GetTensorTypeAndShape();
        shape = info.Shape;
        var length = checked((int)info.ElementCount);
        var result = ArrayPool<float>.Shared.Rent(length);
        if (info.ElementDataType == TensorElementType.Float16)
        {
            TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<Float16, Half>(value.GetTensorDataAsSpan<Float16>()), result.AsSpan(0, length));
        }
        else
        {
            value.GetTensorDataAsSpan<float>().CopyTo(result);
        }
        return result;
    }
}

/// <summary>
/// One output of a text encoder run, float32: <see cref="Values"/> holds the tensor row-major in its first elements,
/// <see cref="Width"/> is its last dimension (hidden size, or the pooled width). The array is rented from
/// <see cref="ArrayPool{T}.Shared"/> and may be longer than the tensor; the receiver returns it.
/// </summary>
internal readonly record struct EncoderOutput(float[] Values, int Width);
