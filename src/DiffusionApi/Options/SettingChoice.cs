using System.ComponentModel.DataAnnotations;

namespace DiffusionApi.Options;

/// <summary>Checks a setting that names one of a fixed set of choices (a backend, a provider), case-insensitively.</summary>
public static class SettingChoice
{
    /// <summary>Null when <paramref name="value"/> is one of <paramref name="choices"/>, else an error naming the setting, the choices and the value.</summary>
    public static ValidationResult? Check(string setting, string value, string member, params string[] choices) =>
        choices.Contains(value, StringComparer.OrdinalIgnoreCase)
            ? null
            : new ValidationResult($"{setting} must be {string.Join(" or ", choices)} but was '{value}'.", [member]);
}
