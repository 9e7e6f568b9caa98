using DiffusionEngine.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionEngine.Runtime;

/// <summary>
/// The denoising UNet: <c>sample</c> [batch, 4, h, w], <c>timestep</c> (int64 [batch] | float32 rank-0 | float16
/// rank-0 or [batch]), <c>encoder_hidden_states</c> [batch, sequence, hidden] → <c>out_sample</c> [batch, 4, h, w];
/// float tensors may be float32 or float16. <see cref="Bind"/> wraps one generation's buffers once (hidden states
/// bound once per generation); the per-step <see cref="UNetBinding.Run"/> allocates nothing.
/// </summary>
internal sealed class UNetModel : OnnxComponent
{
    public const string SampleName = "sample";
    public const string TimestepName = "timestep";
    public const string HiddenStatesName = "encoder_hidden_states";
    public const string OutSampleName = "out_sample";

    private readonly UNetCallMode _mode;
    private readonly int _deviceId;
    private readonly Dictionary<(int, int, int, int, int), UNetDeviceBinding.DeviceBuffers> _deviceBuffers = [];
    private OrtAllocator? _deviceAllocator;

    private UNetModel(InferenceSession session, string modelPath, OrtRunTimer timer, UNetCallMode mode, int deviceId)
        : base(session, modelPath, "unet", timer)
    {
        _mode = mode;
        _deviceId = deviceId;
        var sample = RequireInput(SampleName);
        RequireTensor("input", SampleName, sample, FloatTypes, [4], "float32 or float16 [batch, 4, height/8, width/8]");
        var timestep = RequireInput(TimestepName);
        RequireTensor("input", TimestepName, timestep,
            [TensorElementType.Int64, TensorElementType.Float, TensorElementType.Float16], [0, 1],
            "int64 [batch], float32 [] (scalar) or [batch], float16 [] or [batch]");
        var hidden = RequireInput(HiddenStatesName);
        RequireTensor("input", HiddenStatesName, hidden, FloatTypes, [3], "float32 or float16 [batch, sequence, hidden]");
        RejectUnknownInputs(SampleName, TimestepName, HiddenStatesName);
        var (outputName, output) = RequireOutput(OutSampleName);
        RequireTensor("output", outputName, output, FloatTypes, [4], "float32 or float16 [batch, 4, height/8, width/8]");

        SampleType = sample.ElementDataType;
        TimestepType = timestep.ElementDataType;
        TimestepRank = timestep.Dimensions.Length;
        HiddenStatesType = hidden.ElementDataType;
        OutputName = outputName;
        OutputType = output.ElementDataType;
        LatentChannels = FixedDimension(sample, 1) ?? 4;
        FixedLatentHeight = FixedDimension(sample, 2);
        FixedLatentWidth = FixedDimension(sample, 3);
        HiddenSize = FixedDimension(hidden, 2);
    }

    /// <summary>The text hidden size the export fixed (768 for SD 1.x), or null when dynamic.</summary>
    public int? HiddenSize { get; }

    public TensorElementType SampleType { get; }
    public TensorElementType TimestepType { get; }
    public int TimestepRank { get; }
    public TensorElementType HiddenStatesType { get; }
    public TensorElementType OutputType { get; }
    public string OutputName { get; }
    public int LatentChannels { get; }

    /// <summary>Latent height/width the export fixed (a static-shape export), or null when dynamic.</summary>
    public int? FixedLatentHeight { get; }
    public int? FixedLatentWidth { get; }

    /// <summary>How <see cref="Bind"/> wires the buffers: device buffers for CUDA graphs, else I/O binding or plain Run as tuned.</summary>
    public UNetCallMode CallMode => _mode;

    public static UNetModel Load(OrtSessionFactory sessions, string modelPath, OrtRunTimer timer)
    {
        var mode = sessions.UsesDeviceBuffers ? UNetCallMode.DeviceBuffers
            : sessions.Tuning.IoBinding ? UNetCallMode.IoBinding
            : UNetCallMode.PlainRun;
        return LoadComponent(sessions, modelPath, session => new UNetModel(session, modelPath, timer, mode, sessions.Cuda?.DeviceId ?? 0),
            cudaGraph: mode == UNetCallMode.DeviceBuffers);
    }

    /// <summary>
    /// Binds one generation's buffers: <paramref name="sample"/> and <paramref name="output"/> are
    /// [batch, channels, h, w], <paramref name="hiddenStates"/> is [batch, sequence, hidden]. The caller owns the arrays
    /// and keeps them alive until the binding is disposed; they may be longer than the tensors (rented arrays), only
    /// their prefixes are bound. Hidden states are converted for the model once, here.
    /// </summary>
    public IUNetStep Bind(float[] sample, float[] hiddenStates, float[] output, int batch, int latentHeight, int latentWidth, int sequenceLength, int hiddenSize)
    {
        var tensors = new UNetHostTensors(this, sample, hiddenStates, output, batch, latentHeight, latentWidth, sequenceLength, hiddenSize);
        try
        {
            return _mode switch
            {
                UNetCallMode.DeviceBuffers => new UNetDeviceBinding(this, DeviceBuffersFor(batch, latentHeight, latentWidth, sequenceLength, hiddenSize), tensors),
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

    /// <summary>The shape's device buffers, allocated on first use; each shape gets its own CUDA graph id.</summary>
    private UNetDeviceBinding.DeviceBuffers DeviceBuffersFor(int batch, int latentHeight, int latentWidth, int sequenceLength, int hiddenSize)
    {
        var key = (batch, latentHeight, latentWidth, sequenceLength, hiddenSize);
        if (_deviceBuffers.TryGetValue(key, out var buffers)) return buffers;
        if (_deviceAllocator is null)
        {
            using var memory = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, _deviceId, OrtMemType.Default);
            _deviceAllocator = new OrtAllocator(Session, memory);
        }
        buffers = new UNetDeviceBinding.DeviceBuffers(this, _deviceAllocator, _deviceBuffers.Count + 1, batch, latentHeight, latentWidth, sequenceLength, hiddenSize);
        _deviceBuffers[key] = buffers;
        return buffers;
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
/// per-step call. The hidden states do not change during the loop, so they are bound once: with a device execution
/// provider (CUDA) that is their only host→device copy per generation, instead of one per step as with plain Run.
/// I/O binding copies at bind time, so the sample and the timestep, whose host buffers change every step, are rebound
/// before each Run; the output is bound to the host buffer (ORT writes it there, copying back from the device when
/// the model ran on one). On the CPU provider every binding wraps the host memory itself (no copies).
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
        _binding.BindInput(UNetModel.HiddenStatesName, tensors.Hidden.Value);
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
