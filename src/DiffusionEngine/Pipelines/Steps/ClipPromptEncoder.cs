using DiffusionEngine.Runtime;
using DiffusionEngine.Text;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Pipelines.Steps;

/// <summary>
/// Step 2 of the SD 1.x/2.x pipelines (diffusers' <c>encode_prompt</c>): tokenizes each prompt padded to the window and
/// encodes [negative prompts; prompts] (prompts only without the unconditional pass) with the CLIP text encoder's
/// last_hidden_state, once per generation.
/// </summary>
internal static class ClipPromptEncoder
{
    /// <summary>The UNet's encoder_hidden_states for <paramref name="batch"/>, rows [negative_0..n-1 ; prompt_0..n-1] with <paramref name="unconditional"/>.</summary>
    public static UNetInputs Encode(ClipTokenizer tokenizer, TextEncoderModel encoder, IReadOnlyList<GenerationRequest> batch, bool unconditional, RunOptions runOptions)
    {
        var sequence = tokenizer.MaxLength;
        var rows = unconditional ? 2 * batch.Count : batch.Count;
        var ids = TokenRows(tokenizer, batch, unconditional);
        var hidden = encoder.Encode(runOptions, ids, rows, sequence, out var hiddenSize);
        return new UNetInputs(hidden, sequence, hiddenSize);
    }

    /// <summary>Padded token ids [rows, window]: negative prompts first when <paramref name="unconditional"/>, then prompts.</summary>
    public static long[] TokenRows(ClipTokenizer tokenizer, IReadOnlyList<GenerationRequest> batch, bool unconditional)
    {
        var sequence = tokenizer.MaxLength;
        var condOffset = unconditional ? batch.Count : 0;
        var ids = new long[(condOffset + batch.Count) * sequence];
        for (var i = 0; i < batch.Count; i++)
        {
            if (unconditional) tokenizer.EncodePadded(batch[i].NegativePrompt, ids.AsSpan(i * sequence, sequence));
            tokenizer.EncodePadded(batch[i].Prompt, ids.AsSpan((condOffset + i) * sequence, sequence));
        }
        return ids;
    }
}
