using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionEngine.Runtime;

/// <summary>
/// One generation's UNet tensors over the pipeline's host buffers, in the model's element types: the sample
/// [batch, inChannels, h, w] and output [batch, 4, h, w], the timestep, and the inputs that stay the same for the whole
/// loop (<see cref="Constants"/>: the hidden states and, for the kinds that take them, text_embeds, time_ids,
/// timestep_cond), converted for the model once, here. Shared by every <see cref="IUNetStep"/>; the caller owns the
/// arrays and keeps them alive until this is disposed.
/// </summary>
internal sealed class UNetHostTensors : IDisposable
{
    private readonly List<ConstantInput> _constants = [];

    public UNetHostTensors(UNetModel model, float[] sample, int inChannels, UNetInputs inputs, float[] output, int batch, int latentHeight, int latentWidth)
    {
        try
        {
            SampleShape = [batch, inChannels, latentHeight, latentWidth];
            OutputShape = [batch, model.OutChannels, latentHeight, latentWidth];
            Sample = new FloatTensorBinding(sample, SampleShape, model.SampleType);
            Output = new FloatTensorBinding(output, OutputShape, model.OutputType);
            Timestep = new TimestepBinding(model.TimestepType, model.TimestepRank, batch);
            AddConstant(UNetModel.HiddenStatesName, inputs.HiddenStates, [batch, inputs.SequenceLength, inputs.HiddenSize], model.HiddenStatesType);
            if (model.TextEmbeds is { } textEmbeds) AddConstant(textEmbeds.Name, Required(inputs.TextEmbeds, textEmbeds.Name), [batch, inputs.TextEmbedsSize], textEmbeds.Type);
            if (model.TimeIds is { } timeIds) AddConstant(timeIds.Name, Required(inputs.TimeIds, timeIds.Name), [batch, UNetModel.TimeIdCount], timeIds.Type);
            if (model.TimestepCond is { } cond) AddConstant(cond.Name, Required(inputs.TimestepCond, cond.Name), [batch, inputs.TimestepCondSize], cond.Type);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public long[] SampleShape { get; }
    public long[] OutputShape { get; }
    public FloatTensorBinding Sample { get; } = null!;
    public FloatTensorBinding Output { get; } = null!;
    public TimestepBinding Timestep { get; } = null!;

    /// <summary>The inputs bound once per generation, in the model's input order.</summary>
    public IReadOnlyList<ConstantInput> Constants => _constants;

    /// <summary>Every tensor's shape in one string: generations with equal keys can share device buffers.</summary>
    public string ShapeKey => string.Join(";", [string.Join(",", SampleShape), string.Join(",", OutputShape), .. _constants.Select(c => c.Name + ":" + string.Join(",", c.Shape))]);

    /// <summary>Writes the step's timestep and makes the sample tensor equal the host buffer.</summary>
    public void PrepareStep(float timestep)
    {
        Timestep.Set(timestep);
        Sample.CopyHostToModel();
    }

    public void Dispose()
    {
        Sample?.Dispose();
        Output?.Dispose();
        Timestep?.Dispose();
        foreach (var constant in _constants) constant.Binding.Dispose();
    }

    private void AddConstant(string name, float[] host, long[] shape, TensorElementType type)
    {
        var binding = new FloatTensorBinding(host, shape, type);
        _constants.Add(new ConstantInput(name, binding, shape, type));
        binding.CopyHostToModel();
    }

    private static float[] Required(float[]? buffer, string name) =>
        buffer ?? throw new InvalidOperationException($"the unet takes '{name}' but the pipeline provided none");

    /// <summary>An input bound once per generation.</summary>
    internal sealed record ConstantInput(string Name, FloatTensorBinding Binding, long[] Shape, TensorElementType Type);
}
