using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Runtime;

/// <summary>
/// The UNet called with plain <c>Run</c> over preallocated values (no I/O binding): the same host tensors as
/// <see cref="UNetBinding"/>, passed to every call. On CPU the values wrap the host arrays (no copies); on CUDA every
/// input, the hidden states and other conditioning included, is copied to the device on every step.
/// </summary>
internal sealed class UNetPlainRun : IUNetStep
{
    private readonly UNetModel _model;
    private readonly UNetHostTensors _tensors;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly OrtValue[] _inputs;
    private readonly OrtValue[] _outputs;

    internal UNetPlainRun(UNetModel model, UNetHostTensors tensors)
    {
        _model = model;
        _tensors = tensors;
        _outputNames = [model.OutputName];
        _inputNames = [UNetModel.SampleName, UNetModel.TimestepName, .. tensors.Constants.Select(c => c.Name)];
        _inputs = [tensors.Sample.Value, tensors.Timestep.Value, .. tensors.Constants.Select(c => c.Binding.Value)];
        _outputs = [tensors.Output.Value];
    }

    public void Run(RunOptions runOptions, float timestep)
    {
        _tensors.PrepareStep(timestep);
        _model.Run(runOptions, _inputNames, _inputs, _outputNames, _outputs);
        _tensors.Output.CopyModelToHost();
    }

    public void Dispose() => _tensors.Dispose();
}
