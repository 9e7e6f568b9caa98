using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace DiffusionApi.Extensions;

/// <summary>
/// Names every bad field of a JSON object body at once: fields its body type does not declare (with the surface's
/// <see cref="JsonFieldAdvice"/>), fields given more than once (System.Text.Json would keep the last silently), and
/// values that do not fit their property's type. System.Text.Json stops at the first bad value and ignores unknown
/// fields, so a body with several problems would otherwise be answered naming one, or none.
/// </summary>
public static class JsonFieldErrors
{
    /// <summary>Every bad field of <paramref name="body"/>, keyed by its name as sent; empty when there is none.</summary>
    /// <param name="body">A JSON object.</param>
    /// <param name="bodyType">The endpoint's body type (an object contract: its properties are the declared fields).</param>
    /// <param name="options">The options the endpoint binds with (case sensitivity, numbers in strings).</param>
    /// <param name="advice">The surface's advice for undeclared fields; null for none.</param>
    public static Dictionary<string, string[]> Find(JsonElement body, JsonTypeInfo bodyType, JsonSerializerOptions options, JsonFieldAdvice? advice)
    {
        var comparer = options.PropertyNameCaseInsensitive ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
        var declared = bodyType.Properties.Select(p => p.Name).ToArray();
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        FindRepeated(body, "", comparer, errors);
        foreach (var field in body.EnumerateObject())
        {
            if (errors.ContainsKey(field.Name)) continue;
            if (Declared(bodyType.Properties, field.Name, comparer) is not { } property)
            {
                errors[field.Name] = [JsonFieldAdvice.Describe(advice, field.Name, field.Value, declared)];
                continue;
            }
            try
            {
                field.Value.Deserialize(property.PropertyType, options);
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or OverflowException)
            {
                errors[property.Name] = [$"{property.Name} must be {Describe(property.PropertyType)} but was {JsonFieldAdvice.Shorten(field.Value.GetRawText())}"];
            }
        }
        return errors;
    }

    /// <summary>Object members given more than once, at any depth (nested ones keyed by their path, e.g. "a.b").</summary>
    private static void FindRepeated(JsonElement element, string path, StringComparer comparer, Dictionary<string, string[]> errors)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var item in element.EnumerateArray()) FindRepeated(item, $"{path}[{index++}]", comparer, errors);
            return;
        }
        if (element.ValueKind != JsonValueKind.Object) return;
        var counts = new Dictionary<string, int>(comparer);
        foreach (var member in element.EnumerateObject())
        {
            counts[member.Name] = counts.GetValueOrDefault(member.Name) + 1;
            FindRepeated(member.Value, path.Length == 0 ? member.Name : $"{path}.{member.Name}", comparer, errors);
        }
        foreach (var (name, count) in counts)
        {
            if (count < 2) continue;
            var key = path.Length == 0 ? name : $"{path}.{name}";
            errors[key] = [$"{ControlCharacters.Escape(key)} is given {count} times; send it once"];
        }
    }

    private static JsonPropertyInfo? Declared(IList<JsonPropertyInfo> properties, string name, StringComparer comparer)
    {
        foreach (var property in properties)
        {
            if (comparer.Equals(property.Name, name)) return property;
        }
        return null;
    }

    private static string Describe(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(string) => "a string",
        var t when t == typeof(int) => "an integer (32-bit)",
        var t when t == typeof(long) => "an integer (64-bit)",
        var t when t == typeof(ulong) => $"an unsigned integer from 0 to {ulong.MaxValue}",
        var t when t == typeof(double) || t == typeof(float) => "a number",
        var t when t == typeof(bool) => "true or false",
        var t => $"a {t.Name}",
    };
}
