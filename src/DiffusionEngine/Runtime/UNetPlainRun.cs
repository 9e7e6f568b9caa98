using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Runtime;

/// <summary>
/// The UNet called with plain <c>Run</c> over preallocated values (no I/O binding): the same host buffers as
/// <see cref="UNetBinding"/>, passed to every call. On CPU the values wrap the host arrays (no copies); on CUDA every
/// input, the hidden states included, is copied to the device on every step.
/// </summary>
internal sealed class UNetPlainRun : IUNetStep
{
    private readonly UNetModel _model;
    private readonly FloatTensorBinding _sample;
    private readonly FloatTensorBinding _hidden;
    private readonly FloatTensorBinding _output;
    private readonly TimestepBinding _timestep;
    private readonly string[] _inputNames = [UNetModel.SampleName, UNetModel.TimestepName, UNetModel.HiddenStatesName];
    private readonly string[] _outputNames;
    private readonly OrtValue[] _inputs;
    private readonly OrtValue[] _outputs;

    internal UNetPlainRun(UNetModel model, float[] sample, float[] hiddenStates, float[] output, int batch, int latentHeight, int latentWidth, int sequenceLength, int hiddenSize)
    {
        _model = model;
        long[] latentShape = [batch, model.LatentChannels, latentHeight, latentWidth];
        _sample = new FloatTensorBinding(sample, latentShape, model.SampleType);
        _hidden = new FloatTensorBinding(hiddenStates, [batch, sequenceLength, hiddenSize], model.HiddenStatesType);
        _output = new FloatTensorBinding(output, latentShape, model.OutputType);
        _timestep = new TimestepBinding(model.TimestepType, model.TimestepRank, batch);
        _hidden.CopyHostToModel();
        _outputNames = [model.OutputName];
        _inputs = [_sample.Value, _timestep.Value, _hidden.Value];
        _outputs = [_output.Value];
    }

    public void Run(RunOptions runOptions, float timestep)
    {
        _timestep.Set(timestep);
        _sample.CopyHostToModel();
        _model.Run(runOptions, _inputNames, _inputs, _outputNames, _outputs);
        _output.CopyModelToHost();
    }

    public void Dispose()
    {
        _sample.Dispose();
        _hidden.Dispose();
        _output.Dispose();
        _timestep.Dispose();
    }
}
