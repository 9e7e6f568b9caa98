using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Options;

/// <summary>
/// Checks <c>Diffusion:Models</c> at start: every entry has a unique name (it goes into URLs, JSON and Redis keys) and a
/// known execution provider; the list and <c>Diffusion:Model:Path</c> are not both set (one would be ignored); the
/// models loaded at start (the default and the Preload ones) fit in <c>MaxLoaded</c>.
/// </summary>
public sealed partial class ModelsOptionsValidator(IOptions<ModelOptions> model) : IValidateOptions<ModelsOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelsOptions options)
    {
        var failures = new List<string>();
        var entries = options.Entries;
        if (entries.Count > 0 && model.Value.Path.Length > 0)
            failures.Add($"Set either Diffusion:Model:Path (one model) or the list {ModelsOptions.SectionName} (several), not both; Diffusion:Model:Path was '{model.Value.Path}'");
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < entries.Count; i++)
        {
            var setting = $"{ModelsOptions.SectionName}:{i}";
            if (!ModelName().IsMatch(entries[i].Name))
                failures.Add($"{setting}:Name must be 1 to 64 letters, digits, '.', '_' or '-' (starting with a letter or digit) but was '{entries[i].Name}'");
            else if (!seen.Add(entries[i].Name))
                failures.Add($"{setting}:Name '{entries[i].Name}' is used by an earlier entry; names must be unique (case-insensitively)");
            if (entries[i].ExecutionProvider.Length > 0
                && SettingChoice.Check($"{setting}:ExecutionProvider", entries[i].ExecutionProvider, "ExecutionProvider", "auto", "cuda", "cpu") is { } error)
                failures.Add(error.ErrorMessage!);
        }
        var atStart = entries.Count == 0 ? 1 : 1 + entries.Skip(1).Count(e => e.Preload);
        if (options.MaxLoaded > 0 && atStart > options.MaxLoaded)
            failures.Add($"{ModelsOptions.SectionName}:MaxLoaded is {options.MaxLoaded} but {atStart} models load at start (the default and those with Preload: true)");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex ModelName();
}
