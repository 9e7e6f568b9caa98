using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using DiffusionEngine.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionEngine.Runtime;

/// <summary>
/// The CLIP text encoder: <c>input_ids</c> int32 or int64 [batch, sequence] → <c>last_hidden_state</c> float32 or
/// float16 [batch, sequence, hidden]. Runs once per generation, so it may allocate.
/// </summary>
internal sealed class TextEncoderModel : OnnxComponent
{
    public const string InputIdsName = "input_ids";
    public const string HiddenStateName = "last_hidden_state";

    private readonly string[] _inputNames = [InputIdsName];
    private readonly string[] _outputNames;

    private TextEncoderModel(InferenceSession session, string modelPath, OrtRunTimer timer)
        : base(session, modelPath, "text_encoder", timer)
    {
        var inputIds = RequireInput(InputIdsName);
        RequireTensor("input", InputIdsName, inputIds, [TensorElementType.Int32, TensorElementType.Int64], [2], "int32 or int64 [batch, sequence]");
        RejectUnknownInputs(InputIdsName);
        InputIdsType = inputIds.ElementDataType;
        SequenceLength = FixedDimension(inputIds, 1);

        var (outputName, output) = RequireOutput(HiddenStateName);
        RequireTensor("output", outputName, output, FloatTypes, [3], "float32 or float16 [batch, sequence, hidden]");
        _outputNames = [outputName];
    }

    public TensorElementType InputIdsType { get; }

    /// <summary>The sequence length the export fixed, or null when it is dynamic.</summary>
    public int? SequenceLength { get; }

    public static TextEncoderModel Load(OrtSessionFactory sessions, string modelPath, OrtRunTimer timer) =>
        LoadComponent(sessions, modelPath, session => new TextEncoderModel(session, modelPath, timer));

    /// <summary>
    /// Encodes <paramref name="rows"/> padded token rows of <paramref name="sequenceLength"/> ids each and returns the
    /// hidden states as float32 [rows, sequenceLength, hidden] in the first <c>rows·sequenceLength·hiddenSize</c>
    /// elements of an array rented from <see cref="System.Buffers.ArrayPool{T}.Shared"/> (it may be longer): the caller
    /// owns it and returns it to that pool.
    /// </summary>
    public float[] Encode(RunOptions runOptions, long[] tokenIds, int rows, int sequenceLength, out int hiddenSize)
    {
        long[] shape = [rows, sequenceLength];
        using var input = InputIdsType == TensorElementType.Int64
            ? OrtValue.CreateTensorValueFromMemory(tokenIds, shape)
            : OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(tokenIds, id => checked((int)id)), shape);
        using var outputs = Run(runOptions, _inputNames, [input], _outputNames);
        var hidden = outputs[0];
        var outShape = hidden.GetTensorTypeAndShape().Shape;
        hiddenSize = checked((int)outShape[2]);
        var length = rows * sequenceLength * hiddenSize;
        var result = System.Buffers.ArrayPool<float>.Shared.Rent(length);
        if (hidden.GetTensorTypeAndShape().ElementDataType == TensorElementType.Float16)
        {
            TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<Float16, Half>(hidden.GetTensorDataAsSpan<Float16>()), result.AsSpan(0, length));
        }
        else
        {
            hidden.GetTensorDataAsSpan<float>().CopyTo(result);
        }
        return result;
    }
}
