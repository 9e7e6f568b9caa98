using DiffusionEngine.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionEngine.Runtime;

/// <summary>
/// The denoising UNet: <c>sample</c> [batch, 4 or 9, h, w], <c>timestep</c> (int64 [batch] | float32 rank-0 | float16
/// rank-0 or [batch]), <c>encoder_hidden_states</c> [batch, sequence, hidden], and the optional inputs of the other
/// kinds as Optimum exports them (optimum/exporters/onnx/model_configs.py, UNetOnnxConfig): SDXL's <c>text_embeds</c>
/// [batch, projection] and <c>time_ids</c> [batch, 6], an LCM's <c>timestep_cond</c> [batch, time_cond_proj_dim]
/// → <c>out_sample</c> [batch, 4, h, w]; float tensors may be float32 or float16. <see cref="Bind"/> wraps one
/// generation's buffers once (every input but the sample and the timestep bound once per generation) in the call mode
/// the session settings chose (<see cref="UNetCallMode"/>); the per-step <see cref="IUNetStep.Run"/> allocates nothing.
/// </summary>
internal sealed class UNetModel : OnnxComponent
{
    public const string SampleName = "sample";
    public const string TimestepName = "timestep";
    public const string HiddenStatesName = "encoder_hidden_states";
    public const string TextEmbedsName = "text_embeds";
    public const string TimeIdsName = "time_ids";
    public const string TimestepCondName = "timestep_cond";
    public const string OutSampleName = "out_sample";

    /// <summary>Entries of SDXL's time_ids: original size (h, w), crop top-left (y, x), target size (h, w).</summary>
    public const int TimeIdCount = 6;

    private readonly UNetCallMode _mode;
    private readonly int _deviceId;
    private readonly Dictionary<string, UNetDeviceBinding.DeviceBuffers> _deviceBuffers = new(StringComparer.Ordinal);
    private OrtAllocator? _deviceAllocator;

    private UNetModel(InferenceSession session, string modelPath, OrtRunTimer timer, UNetCallMode mode, int deviceId)
        : base(session, modelPath, "unet", timer)
    {
        _mode = mode;
        _deviceId = deviceId;
        var sample = RequireInput(SampleName);
        RequireTensor("input", SampleName, sample, FloatTypes, [4],
            "float32 or float16 [batch, 4, height/8, width/8] (9 channels for an inpainting UNet)");
        var timestep = RequireInput(TimestepName);
        RequireTensor("input", TimestepName, timestep,
            [TensorElementType.Int64, TensorElementType.Float, TensorElementType.Float16], [0, 1],
            "int64 [batch], float32 [] (scalar) or [batch], float16 [] or [batch]");
        var hidden = RequireInput(HiddenStatesName);
        RequireTensor("input", HiddenStatesName, hidden, FloatTypes, [3], "float32 or float16 [batch, sequence, hidden]");
        RejectUnknownInputs(SampleName, TimestepName, HiddenStatesName, TextEmbedsName, TimeIdsName, TimestepCondName);
        TextEmbeds = OptionalMatrix(TextEmbedsName, "float32 or float16 [batch, projection_dim]");
        TimeIds = OptionalMatrix(TimeIdsName, $"float32 or float16 [batch, {TimeIdCount}]");
        TimestepCond = OptionalMatrix(TimestepCondName, "float32 or float16 [batch, time_cond_proj_dim]");
        if (TimeIds is { Width: { } timeIdWidth } && timeIdWidth != TimeIdCount)
        {
            throw new ModelLoadException(ModelPath,
                $"unet input '{TimeIdsName}' has {timeIdWidth} entries per image; supported: {TimeIdCount} (original size, crop top-left, target size; an SDXL refiner's 5 are not supported)");
        }
        var (outputName, output) = RequireOutput(OutSampleName);
        RequireTensor("output", outputName, output, FloatTypes, [4], "float32 or float16 [batch, 4, height/8, width/8]");

        SampleType = sample.ElementDataType;
        TimestepType = timestep.ElementDataType;
        TimestepRank = timestep.Dimensions.Length;
        HiddenStatesType = hidden.ElementDataType;
        OutputName = outputName;
        OutputType = output.ElementDataType;
        InChannels = FixedDimension(sample, 1);
        OutChannels = FixedDimension(output, 1) ?? 4;
        FixedLatentHeight = FixedDimension(sample, 2);
        FixedLatentWidth = FixedDimension(sample, 3);
        FixedSequenceLength = FixedDimension(hidden, 1);
        HiddenSize = FixedDimension(hidden, 2);
    }

    /// <summary>The text hidden size the export fixed (768 for SD 1.x), or null when dynamic.</summary>
    public int? HiddenSize { get; }

    /// <summary>How <see cref="Bind"/> wires the buffers: device buffers for CUDA graphs, else I/O binding or plain Run as tuned.</summary>
    public UNetCallMode CallMode => _mode;

    public TensorElementType SampleType { get; }
    public TensorElementType TimestepType { get; }
    public int TimestepRank { get; }
    public TensorElementType HiddenStatesType { get; }
    public TensorElementType OutputType { get; }
    public string OutputName { get; }

    /// <summary>Channels of <c>sample</c> the export fixed (4, or 9 for inpainting), or null when dynamic.</summary>
    public int? InChannels { get; }

    /// <summary>Channels of <c>out_sample</c>: the latent channels (4).</summary>
    public int OutChannels { get; }

    /// <summary>SDXL's pooled text embedding input, when the UNet has one.</summary>
    public OptionalInput? TextEmbeds { get; }

    /// <summary>SDXL's size/crop conditioning input, when the UNet has one.</summary>
    public OptionalInput? TimeIds { get; }

    /// <summary>An LCM's guidance-scale embedding input, when the UNet has one.</summary>
    public OptionalInput? TimestepCond { get; }

    /// <summary>Latent height/width the export fixed (a static-shape export), or null when dynamic.</summary>
    public int? FixedLatentHeight { get; }
    public int? FixedLatentWidth { get; }

    /// <summary>
    /// The encoder_hidden_states sequence length the export fixed (77 in a static-shape export), or null when it is
    /// dynamic (Optimum's and diffusers' exports): prompts of several 77-token chunks need a dynamic one.
    /// </summary>
    public int? FixedSequenceLength { get; }

    /// <summary>The inputs that decide the model's kind, with <paramref name="configInChannels"/> (unet/config.json) where the file leaves the channels dynamic.</summary>
    public UNetSignature Signature(int? configInChannels) =>
        new(InChannels ?? configInChannels, TextEmbeds is not null, TimeIds is not null, TimestepCond is not null);

    public static UNetModel Load(OrtSessionFactory sessions, string modelPath, OrtRunTimer timer)
    {
        var mode = sessions.UsesDeviceBuffers ? UNetCallMode.DeviceBuffers
            : sessions.Tuning.IoBinding ? UNetCallMode.IoBinding
            : UNetCallMode.PlainRun;
        return LoadComponent(sessions, modelPath, session => new UNetModel(session, modelPath, timer, mode, sessions.Cuda?.DeviceId ?? 0),
            cudaGraph: mode == UNetCallMode.DeviceBuffers);
    }

    /// <summary>
    /// Binds one generation's buffers: <paramref name="sample"/> is [batch, inChannels, h, w], <paramref name="output"/>
    /// [batch, 4, h, w]; <paramref name="conditioning"/> holds the hidden states and the optional inputs this UNet takes.
    /// The caller owns every array and keeps it alive until the binding is disposed; arrays may be longer than the
    /// tensors (rented arrays), only their prefixes are bound. Everything but the sample is converted for the model once, here.
    /// </summary>
    public IUNetStep Bind(float[] sample, int inChannels, UNetInputs conditioning, float[] output, int batch, int latentHeight, int latentWidth)
    {
        var tensors = new UNetHostTensors(this, sample, inChannels, conditioning, output, batch, latentHeight, latentWidth);
        try
        {
            return _mode switch
            {
                UNetCallMode.DeviceBuffers => new UNetDeviceBinding(this, DeviceBuffersFor(tensors), tensors),
                UNetCallMode.PlainRun => new UNetPlainRun(this, tensors),
                _ => new UNetBinding(this, tensors),
            };
        }
        catch
        {
            tensors.Dispose();
            throw;
        }
    }

    public override void Dispose()
    {
        foreach (var buffers in _deviceBuffers.Values) buffers.Dispose();
        _deviceBuffers.Clear();
        _deviceAllocator?.Dispose();
        base.Dispose();
    }

    /// <summary>The device buffers for these tensors' shapes, allocated on first use; each shape gets its own CUDA graph id.</summary>
    private UNetDeviceBinding.DeviceBuffers DeviceBuffersFor(UNetHostTensors tensors)
    {
        var key = tensors.ShapeKey;
        if (_deviceBuffers.TryGetValue(key, out var buffers)) return buffers;
        if (_deviceAllocator is null)
        {
            using var memory = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, _deviceId, OrtMemType.Default);
            _deviceAllocator = new OrtAllocator(Session, memory);
        }
        buffers = new UNetDeviceBinding.DeviceBuffers(this, _deviceAllocator, _deviceBuffers.Count + 1, tensors);
        _deviceBuffers[key] = buffers;
        return buffers;
    }

    private OptionalInput? OptionalMatrix(string name, string supported)
    {
        if (!Session.InputMetadata.TryGetValue(name, out var metadata)) return null;
        RequireTensor("input", name, metadata, FloatTypes, [2], supported);
        return new OptionalInput(name, metadata.ElementDataType, FixedDimension(metadata, 1));
    }
}

/// <summary>An optional float [batch, width] UNet input: its element type and the width the export fixed (null when dynamic).</summary>
internal sealed record OptionalInput(string Name, TensorElementType Type, int? Width);

/// <summary>
/// The per-generation UNet inputs besides the sample, as float32 host buffers [rows, …] in the UNet batch's row order:
/// <see cref="HiddenStates"/> [rows, sequence, hidden], and for the kinds that take them <see cref="TextEmbeds"/>
/// [rows, projection], <see cref="TimeIds"/> [rows, 6], <see cref="TimestepCond"/> [rows, time_cond_proj_dim].
/// Every array is rented from <see cref="System.Buffers.ArrayPool{T}.Shared"/> (and may be longer than its tensor);
/// this object owns them and <see cref="Dispose"/> returns them, after the binding that uses them is disposed.
/// </summary>
internal sealed class UNetInputs(float[] hiddenStates, int sequenceLength, int hiddenSize) : IDisposable
{
    public float[] HiddenStates { get; } = hiddenStates;
    public int SequenceLength { get; } = sequenceLength;
    public int HiddenSize { get; } = hiddenSize;
    public float[]? TextEmbeds { get; init; }
    public int TextEmbedsSize { get; init; }
    public float[]? TimeIds { get; init; }
    public float[]? TimestepCond { get; set; }
    public int TimestepCondSize { get; set; }

    public void Dispose()
    {
        System.Buffers.ArrayPool<float>.Shared.Return(HiddenStates);
        if (TextEmbeds is not null) System.Buffers.ArrayPool<float>.Shared.Return(TextEmbeds);
        if (TimeIds is not null) System.Buffers.ArrayPool<float>.Shared.Return(TimeIds);
        if (TimestepCond is not null) System.Buffers.ArrayPool<float>.Shared.Return(TimestepCond);
    }
}

/// <summary>How the UNet's buffers reach ONNX Runtime each step.</summary>
internal enum UNetCallMode
{
    /// <summary>I/O binding bound once per generation (<see cref="UNetBinding"/>).</summary>
    IoBinding,

    /// <summary>Run with preallocated values each step (<see cref="UNetPlainRun"/>).</summary>
    PlainRun,

    /// <summary>Fixed device buffers per shape for CUDA graphs (<see cref="UNetDeviceBinding"/>).</summary>
    DeviceBuffers,
}

/// <summary>
/// One generation's UNet inputs and outputs, bound once through ONNX Runtime's I/O binding; <see cref="Run"/> is the
/// per-step call. The hidden states and the other conditioning inputs do not change during the loop, so they are bound
/// once: with a device execution provider (CUDA) that is their only host→device copy per generation, instead of one per
/// step as with plain Run. I/O binding copies at bind time, so the sample and the timestep, whose host buffers change
/// every step, are rebound before each Run; the output is bound to the host buffer (ORT writes it there, copying back
/// from the device when the model ran on one). On the CPU provider every binding wraps the host memory itself (no copies).
/// </summary>
internal sealed class UNetBinding : IUNetStep
{
    private readonly UNetModel _model;
    private readonly UNetHostTensors _tensors;
    private readonly OrtIoBinding _binding;

    internal UNetBinding(UNetModel model, UNetHostTensors tensors)
    {
        _model = model;
        _tensors = tensors;
        _binding = model.CreateIoBinding();
        foreach (var constant in tensors.Constants) _binding.BindInput(constant.Name, constant.Binding.Value);
        _binding.BindOutput(model.OutputName, tensors.Output.Value);
    }

    /// <summary>Predicts the noise for the current sample buffer at <paramref name="timestep"/> into the output buffer.</summary>
    public void Run(RunOptions runOptions, float timestep)
    {
        _tensors.PrepareStep(timestep);
        _binding.BindInput(UNetModel.SampleName, _tensors.Sample.Value);
        _binding.BindInput(UNetModel.TimestepName, _tensors.Timestep.Value);
        _binding.SynchronizeBoundInputs();
        _model.RunWithBinding(runOptions, _binding);
        _binding.SynchronizeBoundOutputs();
        _tensors.Output.CopyModelToHost();
    }

    public void Dispose()
    {
        _binding.Dispose();
        _tensors.Dispose();
    }
}
