using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace DiffusionApi.Extensions;

/// <summary>
/// Names every field of a JSON body whose value does not fit its property's type. System.Text.Json stops at the first
/// bad value, so a body with several (e.g. "n":"two" and "seed":-1) would otherwise be answered naming only one.
/// </summary>
public static class JsonFieldErrors
{
    /// <summary>
    /// Checks each top-level property of <paramref name="body"/> that <paramref name="bodyType"/> declares; null when the
    /// body is not a JSON object (the caller then reports the body as a whole).
    /// </summary>
    public static Dictionary<string, string[]>? Find(ReadOnlySpan<byte> body, Type bodyType, JsonSerializerOptions options)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException)
        {
            return null;
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) return null;
            var properties = options.GetTypeInfo(bodyType).Properties;
            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            foreach (var field in document.RootElement.EnumerateObject())
            {
                if (Declared(properties, field.Name, options) is not { } property) continue;
                try
                {
                    field.Value.Deserialize(property.PropertyType, options);
                }
                catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or OverflowException)
                {
                    errors[property.Name] = [$"{property.Name} must be {Describe(property.PropertyType)} but was {Shorten(field.Value.GetRawText())}"];
                }
            }
            return errors;
        }
    }

    private static JsonPropertyInfo? Declared(IList<JsonPropertyInfo> properties, string name, JsonSerializerOptions options)
    {
        var comparison = options.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        foreach (var property in properties)
        {
            if (string.Equals(property.Name, name, comparison)) return property;
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

    private static string Shorten(string raw) => raw.Length <= 40 ? raw : raw[..40] + "…";
}
