using DiffusionEngine.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Pipelines.Steps;

/// <summary>
/// Step 2 of the SD 1.x/2.x pipelines (diffusers' <c>encode_prompt</c>, with A1111's prompt semantics): encodes the
/// rows [negative prompts; prompts] (prompts only without the unconditional pass) with the CLIP text encoder, chunk by
/// chunk (<see cref="ChunkedPromptEncoder"/>), once per generation. Clip skip N conditions on <c>hidden_states[-N]</c>
/// through the final LayerNorm, as A1111's <c>CLIP_stop_at_last_layers</c> and diffusers' <c>clip_skip = N − 1</c>.
/// </summary>
internal static class ClipPromptEncoder
{
    /// <summary>The UNet's encoder_hidden_states for <paramref name="batch"/>: [UNet rows, chunks·77, hidden].</summary>
    public static UNetInputs Encode(ModelComponents model, PreparedBatch batch, RunOptions runOptions)
    {
        var encoder = model.TextEncoder;
        var encoding = ChunkedPromptEncoder.Encode(encoder, ChunkedPromptEncoder.Rows(batch, 0, clipSkip => Layer(encoder, clipSkip)),
            batch.Key.PromptChunks, pooledOutputName: null, runOptions);
        return new UNetInputs(encoding.Hidden, encoding.SequenceLength, encoding.HiddenSize);
    }

    /// <summary>Clip skip 1: last_hidden_state; N: <c>hidden_states[-N]</c> then the final LayerNorm (A1111's <c>encode_with_transformers</c>).</summary>
    public static EncoderLayer Layer(TextEncoderModel encoder, int clipSkip) =>
        clipSkip == 1 ? new EncoderLayer(encoder.LastHiddenStateName, Normalize: false) : new EncoderLayer(encoder.HiddenStatesOutput(clipSkip - 1), Normalize: true);
}
