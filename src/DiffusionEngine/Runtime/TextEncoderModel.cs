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
    /// Encodes <paramref name="rows"/> padded token rows of <paramref name="sequenceLength"/> ids each and returns the
    /// <see cref="LastHiddenStateName"/> states as float32 [rows, sequenceLength, hidden] in the first
    /// <c>rows·sequenceLength·hiddenSize</c> elements of an array rented from <see cref="ArrayPool{T}.Shared"/> (it may be
    /// longer): the caller owns it and returns it to that pool.
    /// </summary>
    public float[] Encode(RunOptions runOptions, long[] tokenIds, int rows, int sequenceLength, out int hiddenSize)
    {
        var encoding = Encode(runOptions, tokenIds, rows, sequenceLength, LastHiddenStateName, pooledOutputName: null);
        hiddenSize = encoding.HiddenSize;
        return encoding.Hidden;
    }

    /// <summary>
    /// Encodes like <see cref="Encode(RunOptions, long[], int, int, out int)"/> but returns the output
    /// <paramref name="hiddenOutputName"/> [rows, sequence, hidden] and, when <paramref name="pooledOutputName"/> is given,
    /// that output [rows, width] too, each in an array rented from <see cref="ArrayPool{T}.Shared"/> that the caller returns.
    /// </summary>
    public TextEncoding Encode(RunOptions runOptions, long[] tokenIds, int rows, int sequenceLength, string hiddenOutputName, string? pooledOutputName)
    {
        long[] shape = [rows, sequenceLength];
        using var input = InputIdsType == TensorElementType.Int64
            ? OrtValue.CreateTensorValueFromMemory(tokenIds, shape)
            : OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(tokenIds, id => checked((int)id)), shape);
        string[] outputNames = pooledOutputName is null ? [hiddenOutputName] : [hiddenOutputName, pooledOutputName];
        using var outputs = Run(runOptions, _inputNames, [input], outputNames);
        var hidden = ToRentedSingles(outputs[0], out var hiddenShape);
        if (pooledOutputName is null) return new TextEncoding(hidden, checked((int)hiddenShape[2]), null, 0);
        var pooled = ToRentedSingles(outputs[1], out var pooledShape);
        return new TextEncoding(hidden, checked((int)hiddenShape[2]), pooled, checked((int)pooledShape[1]));
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
/// A text encoder's outputs for one batch of rows, float32: <see cref="Hidden"/> [rows, sequence, <see cref="HiddenSize"/>]
/// and, when asked for, <see cref="Pooled"/> [rows, <see cref="PooledSize"/>]. Both arrays are rented from
/// <see cref="ArrayPool{T}.Shared"/> and may be longer than the tensors; the receiver returns them.
/// </summary>
internal readonly record struct TextEncoding(float[] Hidden, int HiddenSize, float[]? Pooled, int PooledSize);
