namespace DiffusionEngine.TinyModel;

/// <summary>
/// What <see cref="TinyModelBuilder.Write"/> builds. Every combination is a model-folder variant seen in real
/// diffusers/Optimum exports, so the loader can be tested against all of them without downloading anything.
/// </summary>
public sealed record TinyModelOptions
{
    /// <summary>Element type of the weights and of every floating-point graph input and output.</summary>
    public ModelDataType DataType { get; init; } = ModelDataType.Float32;

    /// <summary>Element type of the text encoder's <c>input_ids</c>.</summary>
    public InputIdsType InputIds { get; init; } = InputIdsType.Int32;

    /// <summary>Type and rank of the UNet's <c>timestep</c> input.</summary>
    public TimestepInput Timestep { get; init; } = TimestepInput.Int64Batch;

    /// <summary>
    /// Store the weights in <c>model.onnx_data</c> beside each <c>model.onnx</c> (ONNX external data) instead of inline.
    /// Always on for <see cref="TinyModelPreset.Sd15"/> and <see cref="TinyModelPreset.Sdxl"/>, whose UNets are larger than protobuf's 2 GB limit.
    /// </summary>
    public bool ExternalData { get; init; }

    /// <summary>What to build: the toy-scale SD default, another kind at toy scale, or a real architecture's full size.</summary>
    public TinyModelPreset Preset { get; init; } = TinyModelPreset.Tiny;

    /// <summary>
    /// Also export the text encoders' <c>hidden_states.0 … hidden_states.N</c> outputs (the embeddings and every layer's
    /// output, as Optimum does with output_hidden_states), e.g. for clip skip. Always on for the SDXL presets, whose
    /// pipeline conditions on the penultimate hidden states.
    /// </summary>
    public bool TextEncoderHiddenStates { get; init; }

    /// <summary>
    /// Export the UNet's <c>encoder_hidden_states</c> with a fixed sequence of 77 tokens, as a static-shape export does
    /// (Optimum's and diffusers' leave it dynamic): such a model takes only prompts of one chunk.
    /// </summary>
    public bool StaticTextSequence { get; init; }

    /// <summary>The vae_encoder's output form (both occur in real exports).</summary>
    public VaeEncoderOutput VaeEncoderOutput { get; init; } = VaeEncoderOutput.LatentSample;
}
