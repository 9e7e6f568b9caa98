using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Runtime;

/// <summary>
/// The UNet on CUDA with CUDA graphs: its inputs and output live in device buffers allocated once per shape (batch,
/// latent size, sequence, hidden) and kept for the model's lifetime, because a captured graph replays with the device
/// addresses it was captured with. Per step only the sample and the timestep go to the device and the noise prediction
/// comes back (<see cref="OrtEnv.CopyTensors"/>); the hidden states and other conditioning go once per generation. Each shape runs under its
/// own <c>gpu_graph_id</c>, so ONNX Runtime keeps one graph per shape.
/// </summary>
internal sealed class UNetDeviceBinding : IUNetStep
{
    private readonly UNetModel _model;
    private readonly DeviceBuffers _device;
    private readonly UNetHostTensors _tensors;
    private readonly OrtValue[] _upload;
    private readonly OrtValue[] _uploadTargets;
    private readonly OrtValue[] _download;
    private readonly OrtValue[] _downloadTargets;
    private RunOptions? _configured;

    internal UNetDeviceBinding(UNetModel model, DeviceBuffers device, UNetHostTensors tensors)
    {
        _model = model;
        _device = device;
        _tensors = tensors;
        OrtEnv.Instance().CopyTensors(tensors.Constants.Select(c => c.Binding.Value).ToArray(), device.Constants, null);
        _upload = [tensors.Sample.Value, tensors.Timestep.Value];
        _uploadTargets = [device.Sample, device.Timestep];
        _download = [device.Output];
        _downloadTargets = [tensors.Output.Value];
    }

    public void Run(RunOptions runOptions, float timestep)
    {
        _tensors.PrepareStep(timestep);
        var environment = OrtEnv.Instance();
        environment.CopyTensors(_upload, _uploadTargets, null);
        if (!ReferenceEquals(_configured, runOptions))
        {
            runOptions.AddRunConfigEntry("gpu_graph_id", _device.GraphId); // once per RunOptions (the pipeline makes one per generation)
            _configured = runOptions;
        }
        _model.RunWithBinding(runOptions, _device.Binding);
        environment.CopyTensors(_download, _downloadTargets, null);
        _tensors.Output.CopyModelToHost();
    }

    public void Dispose() => _tensors.Dispose();

    /// <summary>One shape's device tensors and the I/O binding over them (owned by the model, reused by every generation of that shape).</summary>
    internal sealed class DeviceBuffers : IDisposable
    {
        public DeviceBuffers(UNetModel model, OrtAllocator allocator, int graphId, UNetHostTensors shapes)
        {
            GraphId = graphId.ToString(CultureInfo.InvariantCulture);
            Sample = OrtValue.CreateAllocatedTensorValue(allocator, model.SampleType, shapes.SampleShape);
            Output = OrtValue.CreateAllocatedTensorValue(allocator, model.OutputType, shapes.OutputShape);
            Timestep = OrtValue.CreateAllocatedTensorValue(allocator, model.TimestepType, model.TimestepRank == 0 ? [] : [shapes.SampleShape[0]]);
            Constants = shapes.Constants.Select(c => OrtValue.CreateAllocatedTensorValue(allocator, c.Type, c.Shape)).ToArray();
            Binding = model.CreateIoBinding();
            Binding.BindInput(UNetModel.SampleName, Sample);
            Binding.BindInput(UNetModel.TimestepName, Timestep);
            for (var i = 0; i < Constants.Length; i++) Binding.BindInput(shapes.Constants[i].Name, Constants[i]);
            Binding.BindOutput(model.OutputName, Output);
        }

        public string GraphId { get; }
        public OrtValue Sample { get; }
        public OrtValue Output { get; }
        public OrtValue Timestep { get; }

        /// <summary>Device copies of <see cref="UNetHostTensors.Constants"/>, in the same order.</summary>
        public OrtValue[] Constants { get; }

        public OrtIoBinding Binding { get; }

        public void Dispose()
        {
            Binding.Dispose();
            Sample.Dispose();
            Output.Dispose();
            Timestep.Dispose();
            foreach (var constant in Constants) constant.Dispose();
        }
    }
}
