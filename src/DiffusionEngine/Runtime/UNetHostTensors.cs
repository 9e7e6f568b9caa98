namespace DiffusionEngine.Runtime;

/// <summary>
/// One generation's UNet tensors over the pipeline's host buffers, in the model's element types: sample and output
/// [batch, channels, h, w], hidden states [batch, sequence, hidden] (converted for the model once, here) and the
/// timestep. Shared by every <see cref="IUNetStep"/>; the caller owns the arrays and keeps them alive until this is
/// disposed.
/// </summary>
internal sealed class UNetHostTensors : IDisposable
{
    public UNetHostTensors(UNetModel model, float[] sample, float[] hiddenStates, float[] output, int batch, int latentHeight, int latentWidth, int sequenceLength, int hiddenSize)
    {
        long[] latentShape = [batch, model.LatentChannels, latentHeight, latentWidth];
        Sample = new FloatTensorBinding(sample, latentShape, model.SampleType);
        Hidden = new FloatTensorBinding(hiddenStates, [batch, sequenceLength, hiddenSize], model.HiddenStatesType);
        Output = new FloatTensorBinding(output, latentShape, model.OutputType);
        Timestep = new TimestepBinding(model.TimestepType, model.TimestepRank, batch);
        Hidden.CopyHostToModel();
    }

    public FloatTensorBinding Sample { get; }
    public FloatTensorBinding Hidden { get; }
    public FloatTensorBinding Output { get; }
    public TimestepBinding Timestep { get; }

    /// <summary>Writes the step's timestep and makes the sample tensor equal the host buffer.</summary>
    public void PrepareStep(float timestep)
    {
        Timestep.Set(timestep);
        Sample.CopyHostToModel();
    }

    public void Dispose()
    {
        Sample.Dispose();
        Hidden.Dispose();
        Output.Dispose();
        Timestep.Dispose();
    }
}
