using System.CommandLine;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Text.Prompts;

namespace DiffusionCli.Commands;

/// <summary>
/// How prompts are read, as options shared by <c>generate</c>, <c>bench</c> and <c>tokenize</c>: <c>--syntax a1111|plain</c>,
/// <c>--max-chunks N</c>, and for the commands that generate <c>--emphasis original|no_norm|ignore|comfy</c> and
/// <c>--clip-skip N</c>.
/// </summary>
internal sealed class PromptOptions
{
    public Option<string> Syntax { get; } = new("--syntax")
    {
        Description = "a1111: (weights), [weights], BREAK and long prompts in 75-token chunks; plain: literal text in one window, cut to fit",
        DefaultValueFactory = _ => PromptSyntaxNames.NameOf(PromptSyntax.A1111),
    };

    public Option<int> MaxChunks { get; } = new("--max-chunks")
    {
        HelpName = "N",
        Description = "Most chunks of 75 tokens a prompt may need (a1111 syntax)",
        DefaultValueFactory = _ => PromptTokenizer.DefaultMaxChunks,
    };

    public Option<string> Emphasis { get; } = new("--emphasis")
    {
        Description = "How weights change the text encoding: original (A1111's default), no_norm, ignore, or comfy (ComfyUI's)",
        DefaultValueFactory = _ => EmphasisModeNames.NameOf(EmphasisMode.Original),
    };

    public Option<int> ClipSkip { get; } = new("--clip-skip")
    {
        HelpName = "N",
        Description = "A1111's clip skip: 1 = the model's own layer, 2 = one layer earlier, … (needs an export with hidden_states outputs)",
        DefaultValueFactory = _ => 1,
    };

    public PromptOptions()
    {
        Syntax.AcceptOnlyFromAmong([.. PromptSyntaxNames.All]);
        Emphasis.AcceptOnlyFromAmong([.. EmphasisModeNames.All]);
        MaxChunks.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1) result.AddError($"--max-chunks must be at least 1 but was {result.GetValueOrDefault<int>()}");
        });
        ClipSkip.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1) result.AddError($"--clip-skip must be at least 1 but was {result.GetValueOrDefault<int>()}");
        });
    }

    /// <summary>The options of a command that generates: all four.</summary>
    public IEnumerable<Option> ForGeneration => [Syntax, MaxChunks, Emphasis, ClipSkip];

    public PromptSyntax SyntaxOf(ParseResult result) => PromptSyntaxNames.TryParse(result.GetValue(Syntax), out var syntax) ? syntax : PromptSyntax.A1111;

    /// <summary><paramref name="request"/> with the syntax, emphasis and clip skip given on the command line.</summary>
    public GenerationRequest Apply(GenerationRequest request, ParseResult result) => request with
    {
        PromptSyntax = SyntaxOf(result),
        Emphasis = EmphasisModeNames.TryParse(result.GetValue(Emphasis), out var emphasis) ? emphasis : EmphasisMode.Original,
        ClipSkip = result.GetValue(ClipSkip),
    };
}
