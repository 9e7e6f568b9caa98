using System.Globalization;
using System.Text;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Text.Prompts;

namespace DiffusionEngine.Imaging;

/// <summary>
/// The generation parameters in AUTOMATIC1111's "infotext" form, which A1111's PNG Info tab, ComfyUI importers and
/// image sites parse:
/// <code>
/// prompt
/// Negative prompt: negative
/// Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 42, Size: 512x512, Model: tiny-sd, RNG: CPU
/// </code>
/// With an init image, "Denoising strength" (and for inpainting "Mask blur") follow "Model", as A1111 writes them.
/// "Clip skip: N" follows when clip skip is not 1, and "Emphasis: …" comes last when the prompts have brackets and are
/// not read with A1111's default emphasis, both as A1111 writes them.
/// </summary>
/// <remarks>
/// Follows A1111's <c>create_infotext</c>: the negative-prompt line only when it is not empty; fields in A1111's
/// order, joined by ", "; a value containing ',', ':' or a newline written as a JSON string (A1111's <c>quote</c>);
/// the whole text trimmed. RNG: A1111 records its noise source as "RNG: CPU" or "RNG: NV" and leaves the field out
/// for its default "GPU" (torch on CUDA). Our <see cref="RngKind.Cpu"/> (torch's CPU generator) is A1111's "CPU",
/// and <see cref="RngKind.Gpu"/> (Philox imitating CUDA's torch.randn on the CPU) is exactly A1111's "NV"; both are
/// always written, since neither is A1111's default. CFG scale uses the shortest round-trip form ("7", "7.5").
/// Emphasis: A1111 records its emphasis option only when it is not "Original" and a prompt or the negative prompt
/// contains "(" or "["; we write "No norm" and "Ignore" under the same rule, and "None" (A1111's option that reads
/// brackets as text) for <see cref="PromptSyntax.Plain"/>. ComfyUI's mode has no A1111 name and is not written.
/// </remarks>
public static class InfoText
{
    /// <summary>Formats <paramref name="request"/> as A1111 infotext.</summary>
    /// <param name="request">The request the image was generated from.</param>
    /// <param name="samplerDisplayName">The sampler's A1111 name, e.g. "Euler a", "DPM++ 2M Karras".</param>
    /// <param name="modelName">The model's name, e.g. the model folder's name.</param>
    public static string Format(GenerationRequest request, string samplerDisplayName, string modelName)
    {
        ArgumentNullException.ThrowIfNull(request);
        var text = new StringBuilder();
        text.Append(request.Prompt);
        if (!string.IsNullOrEmpty(request.NegativePrompt))
            text.Append("\nNegative prompt: ").Append(request.NegativePrompt);
        text.Append('\n');

        var invariant = CultureInfo.InvariantCulture;
        AppendField(text, "Steps", request.Steps.ToString(invariant), first: true);
        AppendField(text, "Sampler", samplerDisplayName);
        AppendField(text, "CFG scale", request.GuidanceScale.ToString(invariant));
        AppendField(text, "Seed", request.Seed.ToString(invariant));
        AppendField(text, "Size", $"{request.Width}x{request.Height}");
        AppendField(text, "Model", modelName);
        // A1111's seed extras, in its order: variation seed and strength, then "Seed resize from".
        if (request.SubseedStrength != 0)
        {
            AppendField(text, "Variation seed", request.Subseed.ToString(invariant));
            AppendField(text, "Variation seed strength", request.SubseedStrength.ToString(invariant));
        }
        if (request.SeedResizeFromWidth > 0 && request.SeedResizeFromHeight > 0)
            AppendField(text, "Seed resize from", $"{request.SeedResizeFromWidth}x{request.SeedResizeFromHeight}");
        // A1111 records the effective strength for img2img/inpainting and, when inpainting, the mask blur.
        if (request.Mode != GenerationMode.TextToImage)
            AppendField(text, "Denoising strength", (request.Strength ?? ModelDefaults.StrengthFor(request.Mode)).ToString(invariant));
        if (request.ClipSkip != 1) AppendField(text, "Clip skip", request.ClipSkip.ToString(invariant));
        if (request.Mode == GenerationMode.Inpaint) AppendField(text, "Mask blur", request.MaskBlur.ToString(invariant));
        AppendField(text, "RNG", request.Rng switch
        {
            RngKind.Cpu => "CPU",
            RngKind.Gpu => "NV",
            _ => throw new ArgumentOutOfRangeException(nameof(request), request.Rng, "unknown RNG kind"),
        });
        if (EmphasisName(request) is { } emphasis) AppendField(text, "Emphasis", emphasis);

        return text.ToString().Trim();
    }

    // A1111's sd_hijack_clip: extra_generation_params["Emphasis"] when some text has "(" or "[" and the option is not "Original".
    private static string? EmphasisName(GenerationRequest request)
    {
        var bracketed = request.Prompt.AsSpan().IndexOfAny('(', '[') >= 0 || request.NegativePrompt.AsSpan().IndexOfAny('(', '[') >= 0;
        if (!bracketed) return null;
        if (request.PromptSyntax == PromptSyntax.Plain) return "None";
        return request.Emphasis == EmphasisMode.Original ? null : EmphasisModeNames.A1111NameOf(request.Emphasis);
    }

    private static void AppendField(StringBuilder text, string key, string value, bool first = false)
    {
        if (!first) text.Append(", ");
        text.Append(key).Append(": ");
        AppendQuoted(text, value);
    }

    // A1111's quote(): values with ',', ':' or '\n' become json.dumps(value, ensure_ascii=False).
    private static void AppendQuoted(StringBuilder text, string value)
    {
        if (value.AsSpan().IndexOfAny(",:\n") < 0)
        {
            text.Append(value);
            return;
        }

        text.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                case '\b': text.Append("\\b"); break;
                case '\f': text.Append("\\f"); break;
                case < ' ': text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)); break;
                default: text.Append(c); break;
            }
        }

        text.Append('"');
    }
}
