using System.Buffers;
using DiffusionEngine.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Pipelines.Steps;

/// <summary>
/// Step 2 of the SDXL pipelines, as diffusers' <c>StableDiffusionXLPipeline.encode_prompt</c> and
/// <c>_get_add_time_ids</c> with A1111's prompt semantics: each prompt is read by both tokenizers and encoded by both
/// text encoders chunk by chunk (<see cref="ChunkedPromptEncoder"/>); the encoder_hidden_states are the penultimate
/// hidden states of text_encoder (hidden_states[-2]) and text_encoder_2 concatenated on the feature axis, token by token
/// over all chunks; text_embeds is text_encoder_2's pooled projection of the first chunk (as A1111 and ComfyUI); time_ids
/// are (original height, width, crop top, left, target height, width) = (H, W, 0, 0, H, W) for every row. Clip skip N
/// moves both encoders to <c>hidden_states[-(N+1)]</c> (diffusers' clip_skip N − 1; no final LayerNorm, as diffusers
/// and ComfyUI). With <c>force_zeros_for_empty_prompt</c> an empty negative prompt gives zero embeddings (hidden, all
/// chunks, and pooled) instead of the encoded empty string.
/// </summary>
internal static class SdxlPromptEncoder
{
    public static UNetInputs Encode(ModelComponents model, PreparedBatch batch, RunOptions runOptions)
    {
        var encoder = model.TextEncoder;
        var encoder2 = model.TextEncoder2!;
        var chunks = batch.Key.PromptChunks;
        var first = ChunkedPromptEncoder.Encode(encoder, ChunkedPromptEncoder.Rows(batch, 0, clipSkip => Layer(encoder, clipSkip)), chunks, null, runOptions);
        ChunkedEncoding second;
        try
        {
            second = ChunkedPromptEncoder.Encode(encoder2, ChunkedPromptEncoder.Rows(batch, 1, clipSkip => Layer(encoder2, clipSkip)), chunks,
                encoder2.PooledOutputName, runOptions);
        }
        catch
        {
            ArrayPool<float>.Shared.Return(first.Hidden);
            throw;
        }

        // [rows, sequence, hidden1 + hidden2]: each token's two feature vectors side by side (torch.concat(dim=-1)).
        var rows = batch.UNetBatch;
        var sequence = first.SequenceLength;
        var hiddenSize = first.HiddenSize + second.HiddenSize;
        var hidden = ArrayPool<float>.Shared.Rent(rows * sequence * hiddenSize);
        for (var token = 0; token < rows * sequence; token++)
        {
            first.Hidden.AsSpan(token * first.HiddenSize, first.HiddenSize).CopyTo(hidden.AsSpan(token * hiddenSize, first.HiddenSize));
            second.Hidden.AsSpan(token * second.HiddenSize, second.HiddenSize).CopyTo(hidden.AsSpan(token * hiddenSize + first.HiddenSize, second.HiddenSize));
        }
        ArrayPool<float>.Shared.Return(first.Hidden);
        ArrayPool<float>.Shared.Return(second.Hidden);
        var pooled = second.Pooled!;

        if (batch.Key.UnconditionalPass && model.Folder.ForceZerosForEmptyPrompt)
        {
            for (var i = 0; i < batch.Count; i++)
            {
                if (batch.Requests[i].NegativePrompt.Length != 0) continue;
                hidden.AsSpan(i * sequence * hiddenSize, sequence * hiddenSize).Clear();
                pooled.AsSpan(i * second.PooledSize, second.PooledSize).Clear();
            }
        }

        var timeIds = ArrayPool<float>.Shared.Rent(rows * UNetModel.TimeIdCount);
        for (var row = 0; row < rows; row++) WriteTimeIds(timeIds.AsSpan(row * UNetModel.TimeIdCount, UNetModel.TimeIdCount), batch.Key.Width, batch.Key.Height);
        return new UNetInputs(hidden, sequence, hiddenSize) { TextEmbeds = pooled, TextEmbedsSize = second.PooledSize, TimeIds = timeIds };
    }

    /// <summary>Clip skip 1: the penultimate layer (<c>hidden_states[-2]</c>); N: <c>hidden_states[-(N+1)]</c>, without the final LayerNorm.</summary>
    public static EncoderLayer Layer(TextEncoderModel encoder, int clipSkip) => new(encoder.HiddenStatesOutput(clipSkip), Normalize: false);

    /// <summary>
    /// diffusers' <c>add_time_ids = list(original_size + crops_coords_top_left + target_size)</c> with original and target
    /// size (height, width) of the output and no crop: [H, W, 0, 0, H, W].
    /// </summary>
    public static void WriteTimeIds(Span<float> destination, int width, int height)
    {
        destination[0] = height;
        destination[1] = width;
        destination[2] = 0;
        destination[3] = 0;
        destination[4] = height;
        destination[5] = width;
    }
}
