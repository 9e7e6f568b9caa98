using System.ComponentModel.DataAnnotations;
using DiffusionEngine.Text.Prompts;

namespace DiffusionApi.Options;

/// <summary>
/// How prompts are read when a request does not say (<c>Diffusion:Prompts</c>): <see cref="Syntax"/> a1111 (weights,
/// BREAK, prompts past 75 tokens in chunks) or plain (literal text in one 77-token window), and the <see cref="Emphasis"/>
/// mode that turns weights into the text encoding. A request's <c>prompt_syntax</c> and <c>emphasis</c> override them.
/// </summary>
public sealed class PromptsOptions : IValidatableObject
{
    public const string SectionName = "Diffusion:Prompts";

    /// <summary>a1111 (default) or plain.</summary>
    public string Syntax { get; set; } = PromptSyntaxNames.NameOf(PromptSyntax.A1111);

    /// <summary>original (A1111's default), no_norm, ignore or comfy (ComfyUI's).</summary>
    public string Emphasis { get; set; } = EmphasisModeNames.NameOf(EmphasisMode.Original);

    /// <summary>The syntax a request without prompt_syntax gets.</summary>
    public PromptSyntax DefaultSyntax => PromptSyntaxNames.TryParse(Syntax, out var syntax) ? syntax : PromptSyntax.A1111;

    /// <summary>The emphasis a request without emphasis gets.</summary>
    public EmphasisMode DefaultEmphasis => EmphasisModeNames.TryParse(Emphasis, out var emphasis) ? emphasis : EmphasisMode.Original;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (SettingChoice.Check($"{SectionName}:{nameof(Syntax)}", Syntax, nameof(Syntax), [.. PromptSyntaxNames.All]) is { } syntax) yield return syntax;
        if (SettingChoice.Check($"{SectionName}:{nameof(Emphasis)}", Emphasis, nameof(Emphasis), [.. EmphasisModeNames.All]) is { } emphasis) yield return emphasis;
    }
}
