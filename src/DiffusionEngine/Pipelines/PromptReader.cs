using DiffusionEngine.Text;
using DiffusionEngine.Text.Prompts;

namespace DiffusionEngine.Pipelines;

/// <summary>
/// How a model reads prompts: its tokenizer(s), how many 75-token chunks a prompt may take, and which clip skips its
/// text encoders allow. The engine's batch key counts a request's chunks with it (<see cref="BatchKey.For"/>), the
/// engine checks requests with it, and a service validates requests with it before they are queued; it needs no ONNX
/// session, only the tokenizer files. Immutable; safe to use from any thread.
/// </summary>
public sealed class PromptReader
{
    /// <param name="tokenizer">The model's tokenizer (tokenizer/).</param>
    /// <param name="secondTokenizer">SDXL's tokenizer_2/, whose chunks are encoded by text_encoder_2; null for one encoder.</param>
    /// <param name="maxChunks">The most chunks a prompt may take (the engine's <see cref="PipelineOptions.MaxPromptChunks"/>).</param>
    /// <param name="fixedChunks">The chunks the UNet's encoder_hidden_states were exported for when their sequence is fixed (1 for 77 tokens): every prompt is padded to exactly that many, and none may need more.</param>
    /// <param name="maxClipSkip">The largest clip skip the text encoders allow (1 without hidden states).</param>
    /// <param name="clipSkipUnavailable">Why clip skip is limited to 1, when it is for lack of hidden states.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is below 1.</exception>
    public PromptReader(ClipTokenizer tokenizer, ClipTokenizer? secondTokenizer = null, int maxChunks = PromptTokenizer.DefaultMaxChunks,
        int? fixedChunks = null, int maxClipSkip = 1, string? clipSkipUnavailable = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChunks, 1);
        if (fixedChunks is { } chunks) ArgumentOutOfRangeException.ThrowIfLessThan(chunks, 1, nameof(fixedChunks));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxClipSkip, 1);
        Tokenizer = tokenizer;
        SecondTokenizer = secondTokenizer;
        MaxChunks = maxChunks;
        FixedChunks = fixedChunks;
        MaxClipSkip = maxClipSkip;
        ClipSkipUnavailable = maxClipSkip == 1 ? clipSkipUnavailable : null;
    }

    /// <summary>The model's (first) tokenizer: what <see cref="Read"/> reports.</summary>
    public ClipTokenizer Tokenizer { get; }

    /// <summary>SDXL's second tokenizer, or null.</summary>
    public ClipTokenizer? SecondTokenizer { get; }

    /// <summary>The most chunks a prompt may take in this engine.</summary>
    public int MaxChunks { get; }

    /// <summary>The chunks every prompt is padded to when the UNet's text sequence is fixed; null when it is dynamic.</summary>
    public int? FixedChunks { get; }

    /// <summary>The largest <see cref="GenerationRequest.ClipSkip"/> this model accepts.</summary>
    public int MaxClipSkip { get; }

    /// <summary>Why clip skip above 1 is not available (the export has no hidden states, or its final norm is unknown); null otherwise.</summary>
    public string? ClipSkipUnavailable { get; }

    /// <summary>
    /// Tokenizes <paramref name="text"/> with <see cref="Tokenizer"/> as the text encoder will receive it (its chunks,
    /// each with ids and weights), within <paramref name="maxChunks"/> (default <see cref="MaxChunks"/>) and the model's
    /// own limit (<see cref="FixedChunks"/>). Prompts shorter than <see cref="FixedChunks"/> are not padded here.
    /// </summary>
    /// <param name="text">The prompt.</param>
    /// <param name="syntax">How to read it.</param>
    /// <param name="maxChunks">The limit to check against; null for <see cref="MaxChunks"/>.</param>
    /// <param name="name">How error messages name the text ("prompt", "negative_prompt").</param>
    /// <exception cref="PromptTooLongException">The text needs more chunks than allowed; the message names <paramref name="name"/> and the limit.</exception>
    /// <exception cref="ArgumentException">A weight in the text is not a finite number (A1111 syntax).</exception>
    public ChunkedPrompt Read(string text, PromptSyntax syntax = PromptSyntax.A1111, int? maxChunks = null, string name = "the prompt") =>
        Tokenize(text, Tokenizer, syntax, maxChunks ?? MaxChunks, name);

    /// <summary>
    /// Null when <paramref name="clipSkip"/> is allowed on this model, else the error message: below 1, beyond the text
    /// encoders' layers, or above 1 on an export without hidden states (saying so, never ignoring it).
    /// </summary>
    public string? ClipSkipProblem(int clipSkip)
    {
        if (clipSkip < 1) return $"clip_skip must be at least 1 (1 = the layer the model conditions on by default) but was {clipSkip}";
        if (clipSkip <= MaxClipSkip) return null;
        return ClipSkipUnavailable is { } why
            ? $"clip_skip {clipSkip} is not available for this model: {why}"
            : $"clip_skip must be between 1 and {MaxClipSkip} for this model (the layers its text encoder has) but was {clipSkip}";
    }

    /// <summary>
    /// How many chunks <paramref name="request"/>'s conditioning has, the same for every row and encoder of it: the most
    /// any of its texts needs (the prompt, and the negative prompt when <paramref name="unconditionalPass"/>), or
    /// <see cref="FixedChunks"/>. Requests share a UNet batch only with an equal count (<see cref="BatchKey.PromptChunks"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A text needs too many chunks, or has a weight that is not a number.</exception>
    public int ChunkCount(GenerationRequest request, bool unconditionalPass) => ReadRequest(request, unconditionalPass).ChunkCount;

    /// <summary>The request's texts per tokenizer, padded to one chunk count.</summary>
    internal RequestPrompts ReadRequest(GenerationRequest request, bool unconditionalPass)
    {
        ArgumentNullException.ThrowIfNull(request);
        ClipTokenizer[] tokenizers = SecondTokenizer is null ? [Tokenizer] : [Tokenizer, SecondTokenizer];
        var prompts = new ChunkedPrompt[tokenizers.Length];
        var negatives = unconditionalPass ? new ChunkedPrompt[tokenizers.Length] : null;
        var count = FixedChunks ?? 1;
        for (var t = 0; t < tokenizers.Length; t++)
        {
            prompts[t] = Tokenize(request.Prompt, tokenizers[t], request.PromptSyntax, MaxChunks, "the prompt");
            count = Math.Max(count, prompts[t].ChunkCount);
            if (negatives is null) continue;
            negatives[t] = Tokenize(request.NegativePrompt, tokenizers[t], request.PromptSyntax, MaxChunks, "the negative prompt");
            count = Math.Max(count, negatives[t].ChunkCount);
        }
        for (var t = 0; t < tokenizers.Length; t++)
        {
            prompts[t] = prompts[t].PadTo(count);
            if (negatives is not null) negatives[t] = negatives[t].PadTo(count);
        }
        return new RequestPrompts(prompts, negatives);
    }

    private ChunkedPrompt Tokenize(string text, ClipTokenizer tokenizer, PromptSyntax syntax, int maxChunks, string name)
    {
        var byModel = FixedChunks is { } fixedChunks && fixedChunks <= maxChunks;
        var limit = byModel ? FixedChunks!.Value : maxChunks;
        try
        {
            return PromptTokenizer.Tokenize(text, tokenizer, syntax, limit);
        }
        catch (PromptTooLongException ex)
        {
            var chunkTokens = tokenizer.MaxLength - 2;
            var message = byModel
                ? $"{name} needs {ex.ChunkCount} chunks of {chunkTokens} tokens, but this model's UNet was exported with a fixed text sequence of " +
                  $"{limit * tokenizer.MaxLength} tokens ({limit} chunk{(limit == 1 ? "" : "s")}); shorten it, or export the UNet with a dynamic encoder_hidden_states sequence"
                : $"{name} needs {ex.ChunkCount} chunks of {chunkTokens} tokens but at most {limit} are allowed (MaxPromptChunks)";
            throw new PromptTooLongException(ex.ChunkCount, limit, message, ex.ParamName) { LimitedByModel = byModel };
        }
        catch (ArgumentException ex) when (ex is not PromptTooLongException)
        {
            // Without ArgumentException's " (Parameter 'x')" suffix: the message is shown to the client as it is.
            var message = ex.ParamName is { } parameter ? ex.Message.Replace($" (Parameter '{parameter}')", "", StringComparison.Ordinal) : ex.Message;
            throw new ArgumentException($"{name}: {message}", ex);
        }
    }
}

/// <summary>
/// The texts one request's conditioning is encoded from, per tokenizer (index 0: tokenizer/, 1: SDXL's tokenizer_2/):
/// the prompt and, with the unconditional pass, the negative prompt, all padded with empty chunks to <see cref="ChunkCount"/>.
/// </summary>
internal sealed record RequestPrompts(ChunkedPrompt[] Prompts, ChunkedPrompt[]? NegativePrompts)
{
    public int ChunkCount => Prompts[0].ChunkCount;
}
