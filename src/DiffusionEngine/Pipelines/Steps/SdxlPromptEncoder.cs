using System.Buffers;
using DiffusionEngine.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Pipelines.Steps;

/// <summary>
/// Step 2 of the SDXL pipelines, as diffusers' <c>StableDiffusionXLPipeline.encode_prompt</c> and
/// <c>_get_add_time_ids</c>: each prompt is tokenized by both tokenizers and encoded by both text encoders; the
/// encoder_hidden_states are the penultimate hidden states of text_encoder (hidden_states[-2]) and text_encoder_2
/// concatenated on the feature axis; text_embeds is text_encoder_2's pooled projection; time_ids are
/// (original height, width, crop top, left, target height, width) = (H, W, 0, 0, H, W) for every row. With
/// <c>force_zeros_for_empty_prompt</c> an empty negative prompt gives zero embeddings (hidden and pooled) instead of
/// the encoded empty string.
/// </summary>
internal static class SdxlPromptEncoder
{
    public static UNetInputs Encode(ModelComponents model, IReadOnlyList<GenerationRequest> batch, bool unconditional, int width, int height, RunOptions runOptions)
    {
        var tokenizer2 = model.Tokenizer2!;
        var encoder2 = model.TextEncoder2!;
        var sequence = model.Tokenizer.MaxLength;
        var rows = unconditional ? 2 * batch.Count : batch.Count;

        var first = model.TextEncoder.Encode(runOptions, ClipPromptEncoder.TokenRows(model.Tokenizer, batch, unconditional), rows, sequence,
            model.TextEncoder.HiddenStatesOutput(skip: 1), pooledOutputName: null);
        TextEncoding second;
        try
        {
            second = encoder2.Encode(runOptions, ClipPromptEncoder.TokenRows(tokenizer2, batch, unconditional), rows, sequence,
                encoder2.HiddenStatesOutput(skip: 1), encoder2.PooledOutputName);
        }
        catch
        {
            ArrayPool<float>.Shared.Return(first.Hidden);
            throw;
        }

        // [rows, sequence, hidden1 + hidden2]: each token's two feature vectors side by side (torch.concat(dim=-1)).
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

        if (unconditional && model.Folder.ForceZerosForEmptyPrompt)
        {
            for (var i = 0; i < batch.Count; i++)
            {
                if (batch[i].NegativePrompt.Length != 0) continue;
                hidden.AsSpan(i * sequence * hiddenSize, sequence * hiddenSize).Clear();
                pooled.AsSpan(i * second.PooledSize, second.PooledSize).Clear();
            }
        }

        var timeIds = ArrayPool<float>.Shared.Rent(rows * UNetModel.TimeIdCount);
        for (var row = 0; row < rows; row++) WriteTimeIds(timeIds.AsSpan(row * UNetModel.TimeIdCount, UNetModel.TimeIdCount), width, height);
        return new UNetInputs(hidden, sequence, hiddenSize) { TextEmbeds = pooled, TextEmbedsSize = second.PooledSize, TimeIds = timeIds };
    }

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
