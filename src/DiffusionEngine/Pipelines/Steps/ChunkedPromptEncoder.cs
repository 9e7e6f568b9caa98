using System.Buffers;
using DiffusionEngine.Runtime;
using DiffusionEngine.Text.Prompts;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Pipelines.Steps;

/// <summary>
/// The prompt-encoding step every pipeline shares, for one text encoder, as A1111's
/// <c>FrozenCLIPEmbedderWithCustomWordsBase.forward</c> does it: every row's prompt (its chunks padded to the batch's
/// count C) is encoded chunk by chunk, each chunk one row of the encoder's batch (<c>[rows·C, 77]</c> ids), so the hidden
/// states come out as <c>[rows, C·77, hidden]</c>, the chunks concatenated along the sequence (A1111's torch.hstack).
/// Per row, the layer the request's clip skip selects (through the final LayerNorm where it asks for that), then each
/// chunk's token weights by the request's emphasis mode (<see cref="PromptEmphasis"/>; ComfyUI's mode reads the empty
/// prompt's states of the same layer, encoded as one extra row). With a pooled output, a row's pooled vector is its
/// first chunk's, as A1111 and ComfyUI take SDXL's text_embeds.
/// </summary>
internal static class ChunkedPromptEncoder
{
    /// <param name="encoder">The text encoder.</param>
    /// <param name="rows">The UNet batch's rows in order, each with its text for this encoder's tokenizer.</param>
    /// <param name="chunks">The batch's chunk count; every row's prompt has exactly this many.</param>
    /// <param name="pooledOutputName">The pooled output to return (first chunk of each row), or null.</param>
    /// <param name="runOptions">For the encoder run.</param>
    /// <returns>
    /// Hidden states <c>[rows, chunks·77, hidden]</c> and, when asked, pooled <c>[rows, width]</c>, in arrays rented from
    /// <see cref="ArrayPool{T}.Shared"/> that the caller returns.
    /// </returns>
    public static ChunkedEncoding Encode(TextEncoderModel encoder, IReadOnlyList<EncoderRow> rows, int chunks, string? pooledOutputName, RunOptions runOptions)
    {
        var window = rows[0].Prompt.Chunks[0].Length;
        var emptyChunk = rows[0].Prompt.EmptyChunk;
        var needsEmpty = false;
        var layers = new List<string>(2);
        var normalize = false;
        foreach (var row in rows)
        {
            if (row.Prompt.ChunkCount != chunks) throw new ArgumentException($"every row must have {chunks} chunks but one has {row.Prompt.ChunkCount}", nameof(rows));
            needsEmpty |= row.Prompt.HasWeights && PromptEmphasis.NeedsEmptyChunk(row.Emphasis);
            normalize |= row.Layer.Normalize;
            if (!layers.Contains(row.Layer.OutputName)) layers.Add(row.Layer.OutputName);
        }

        // 1. Token ids: row r's chunk c is encoder row r·C + c; the empty chunk, when ComfyUI weighting needs it, last.
        var chunkRows = rows.Count * chunks;
        var encoderRows = chunkRows + (needsEmpty ? 1 : 0);
        var ids = new long[encoderRows * window];
        for (var r = 0; r < rows.Count; r++)
            for (var c = 0; c < chunks; c++)
                rows[r].Prompt.Chunks[c].CopyIdsTo(ids.AsSpan((r * chunks + c) * window, window));
        if (needsEmpty) emptyChunk.CopyIdsTo(ids.AsSpan(chunkRows * window, window));

        // 2. One encoder run for every layer the rows ask for (and the pooled output).
        string[] outputNames = pooledOutputName is null ? [.. layers] : [.. layers, pooledOutputName];
        var outputs = encoder.Encode(runOptions, ids, encoderRows, window, outputNames);
        var hiddenSize = outputs[0].Width;
        var tokenLength = window * hiddenSize;
        var rowLength = chunks * tokenLength;
        float[]? hidden = null;
        float[]? pooled = null;
        ChunkedEncoding? result = null;
        try
        {
            // 3. Each row's layer, normalized where asked. With one layer as it is, the output already is [rows, C·77, hidden].
            if (layers.Count == 1 && !normalize)
            {
                hidden = outputs[0].Values;
            }
            else
            {
                hidden = ArrayPool<float>.Shared.Rent(rows.Count * rowLength);
                for (var r = 0; r < rows.Count; r++)
                {
                    var destination = hidden.AsSpan(r * rowLength, rowLength);
                    outputs[layers.IndexOf(rows[r].Layer.OutputName)].Values.AsSpan(r * rowLength, rowLength).CopyTo(destination);
                    if (rows[r].Layer.Normalize) FinalNorm(encoder).Apply(destination);
                }
            }

            // 4. Emphasis, per row and chunk.
            var emptyStates = needsEmpty ? new Dictionary<EncoderLayer, float[]>() : null;
            for (var r = 0; r < rows.Count; r++)
            {
                var row = rows[r];
                if (!row.Prompt.HasWeights) continue;
                var empty = emptyStates is null ? default : EmptyStates(emptyStates, row.Layer, outputs[layers.IndexOf(row.Layer.OutputName)].Values, chunkRows * tokenLength, tokenLength, encoder);
                for (var c = 0; c < chunks; c++)
                {
                    var chunk = row.Prompt.Chunks[c];
                    if (chunk.HasWeights) PromptEmphasis.Apply(row.Emphasis, hidden.AsSpan(r * rowLength + c * tokenLength, tokenLength), chunk.Weights, empty);
                }
            }

            // 5. Pooled: each row's first chunk.
            var pooledWidth = 0;
            if (pooledOutputName is not null)
            {
                var pooledOutput = outputs[^1];
                pooledWidth = pooledOutput.Width;
                if (chunks == 1)
                {
                    pooled = pooledOutput.Values;
                }
                else
                {
                    pooled = ArrayPool<float>.Shared.Rent(rows.Count * pooledWidth);
                    for (var r = 0; r < rows.Count; r++)
                        pooledOutput.Values.AsSpan(r * chunks * pooledWidth, pooledWidth).CopyTo(pooled.AsSpan(r * pooledWidth, pooledWidth));
                }
            }

            result = new ChunkedEncoding(hidden, hiddenSize, chunks * window, pooled, pooledWidth);
            return result.Value;
        }
        finally
        {
            // Every rented array that is not part of the result goes back (all of them when this step failed).
            foreach (var output in outputs)
            {
                if (result is not { } kept || (output.Values != kept.Hidden && output.Values != kept.Pooled)) ArrayPool<float>.Shared.Return(output.Values);
            }
            if (result is null)
            {
                if (hidden is not null && !IsOutput(outputs, hidden)) ArrayPool<float>.Shared.Return(hidden);
                if (pooled is not null && !IsOutput(outputs, pooled)) ArrayPool<float>.Shared.Return(pooled);
            }
        }
    }

    /// <summary>
    /// The UNet batch's rows for tokenizer <paramref name="tokenizer"/> (0, or 1 for SDXL's second), in the UNet's row
    /// order: the negative prompts, then the prompts (prompts only without the unconditional pass), each with the layer
    /// its request's clip skip selects and its emphasis mode.
    /// </summary>
    public static EncoderRow[] Rows(PreparedBatch batch, int tokenizer, Func<int, EncoderLayer> layerForClipSkip)
    {
        var count = batch.Count;
        var condOffset = batch.Key.UnconditionalPass ? count : 0;
        var rows = new EncoderRow[condOffset + count];
        for (var i = 0; i < count; i++)
        {
            var request = batch.Requests[i];
            var texts = batch.Prompts[i];
            var layer = layerForClipSkip(request.ClipSkip);
            if (condOffset > 0) rows[i] = new EncoderRow(texts.NegativePrompts![tokenizer], layer, request.Emphasis);
            rows[condOffset + i] = new EncoderRow(texts.Prompts[tokenizer], layer, request.Emphasis);
        }
        return rows;
    }

    private static bool IsOutput(EncoderOutput[] outputs, float[] array)
    {
        foreach (var output in outputs)
            if (output.Values == array) return true;
        return false;
    }

    private static FinalLayerNorm FinalNorm(TextEncoderModel encoder) =>
        encoder.FinalNorm ?? throw new InvalidOperationException($"{encoder.ComponentName} has no final layer norm for clip skip (checked before the batch ran)");

    // The empty prompt's states in a row's layer (normalized like the row), computed once per layer.
    private static float[] EmptyStates(Dictionary<EncoderLayer, float[]> cache, EncoderLayer layer, float[] output, int offset, int length, TextEncoderModel encoder)
    {
        if (cache.TryGetValue(layer, out var states)) return states;
        states = output.AsSpan(offset, length).ToArray();
        if (layer.Normalize) FinalNorm(encoder).Apply(states);
        cache[layer] = states;
        return states;
    }
}

/// <summary>Which encoder output a row conditions on, and whether the final LayerNorm is applied to it (clip skip on SD 1.x/2.x).</summary>
internal readonly record struct EncoderLayer(string OutputName, bool Normalize);

/// <summary>One UNet row's text for one encoder: its chunks (padded to the batch's count), the layer it conditions on and its emphasis mode.</summary>
internal readonly record struct EncoderRow(ChunkedPrompt Prompt, EncoderLayer Layer, EmphasisMode Emphasis);

/// <summary>
/// One encoder's conditioning for a batch: <see cref="Hidden"/> <c>[rows, <see cref="SequenceLength"/>, <see cref="HiddenSize"/>]</c>
/// and, when asked, <see cref="Pooled"/> <c>[rows, <see cref="PooledSize"/>]</c>, in arrays rented from
/// <see cref="ArrayPool{T}.Shared"/> (possibly longer) that the receiver returns.
/// </summary>
internal readonly record struct ChunkedEncoding(float[] Hidden, int HiddenSize, int SequenceLength, float[]? Pooled, int PooledSize);
