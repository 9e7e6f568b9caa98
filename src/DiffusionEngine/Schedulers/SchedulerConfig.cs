using System.Globalization;
using System.Text.Json;

namespace DiffusionEngine.Schedulers;

/// <summary>
/// The keys of a diffusers <c>scheduler_config.json</c>, kept as written. A key that is missing (or <c>null</c>)
/// takes the default of the scheduler class it is loaded into, as diffusers' <c>from_config</c> does: SD 1.5's config
/// has no <c>timestep_spacing</c>, so PNDM/DDIM read "leading" and Euler/LMS/DPM/UniPC read "linspace".
/// Keys a scheduler does not know are ignored (diffusers only warns). Immutable; <see cref="With"/> returns a copy.
/// </summary>
public sealed class SchedulerConfig
{
    private readonly Dictionary<string, JsonElement> _values;

    private SchedulerConfig(Dictionary<string, JsonElement> values) => _values = values;

    /// <summary>A config with no keys: every scheduler uses its own class defaults.</summary>
    public static SchedulerConfig Empty { get; } = new(new Dictionary<string, JsonElement>(StringComparer.Ordinal));

    /// <summary>The diffusers class the config was saved from (<c>_class_name</c>), e.g. "PNDMScheduler"; null when absent.</summary>
    public string? ClassName => TryGetValue("_class_name", out var value) && value.ValueKind == JsonValueKind.String
        ? value.GetString()
        : null;

    /// <summary>The keys present with a non-null value.</summary>
    public IEnumerable<string> Keys => _values.Keys;

    /// <summary>Parses the text of a <c>scheduler_config.json</c>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="json"/> is null.</exception>
    /// <exception cref="FormatException">The text is not a JSON object.</exception>
    public static SchedulerConfig FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(QuoteNonFiniteNumbers(json), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new FormatException($"scheduler config is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"scheduler config must be a JSON object but was a {document.RootElement.ValueKind}");
            }

            var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                // diffusers passes None for a null key, which every scheduler treats as "use the default".
                if (property.Value.ValueKind != JsonValueKind.Null) values[property.Name] = property.Value.Clone();
            }

            return new SchedulerConfig(values);
        }
    }

    /// <summary>Reads and parses a <c>scheduler_config.json</c> file.</summary>
    public static SchedulerConfig Load(string path)
    {
        try
        {
            return FromJson(File.ReadAllText(path));
        }
        catch (FormatException e)
        {
            throw new FormatException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// A copy with <paramref name="key"/> set to <paramref name="value"/> (any JSON-serialisable value; null removes the key),
    /// the equivalent of diffusers' <c>Scheduler.from_config(config, key=value)</c>.
    /// </summary>
    public SchedulerConfig With(string key, object? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var values = new Dictionary<string, JsonElement>(_values, StringComparer.Ordinal);
        if (value is null) values.Remove(key);
        else values[key] = JsonSerializer.SerializeToElement(value, value.GetType());
        return new SchedulerConfig(values);
    }

    /// <summary>True when the key is present with a non-null value.</summary>
    public bool Contains(string key) => _values.ContainsKey(key);

    /// <summary>The raw JSON value of a key, when present and not null.</summary>
    public bool TryGetValue(string key, out JsonElement value) => _values.TryGetValue(key, out value);

    /// <summary>An integer key, or <paramref name="defaultValue"/> when absent.</summary>
    /// <exception cref="FormatException">The value is not an integer.</exception>
    public int GetInt32(string key, int defaultValue)
    {
        if (!_values.TryGetValue(key, out var value)) return defaultValue;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var i)) return i;
        // Python writes whole floats as 1000.0; accept them, as int(x) would.
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d) && d == Math.Floor(d) && Math.Abs(d) <= int.MaxValue) return (int)d;
        throw Invalid(key, value, "an integer");
    }

    /// <summary>A number key, or <paramref name="defaultValue"/> when absent.</summary>
    /// <exception cref="FormatException">The value is not a number.</exception>
    public double GetDouble(string key, double defaultValue) => GetNullableDouble(key) ?? defaultValue;

    /// <summary>A number key, or null when absent (keys whose diffusers default is None, e.g. sigma_min).</summary>
    /// <exception cref="FormatException">The value is not a number.</exception>
    public double? GetNullableDouble(string key)
    {
        if (!_values.TryGetValue(key, out var value)) return null;
        if (value.ValueKind == JsonValueKind.Number) return value.GetDouble();
        if (value.ValueKind == JsonValueKind.String && TryParseNonFinite(value.GetString()!, out var parsed)) return parsed;
        throw Invalid(key, value, "a number");
    }

    /// <summary>A boolean key, or <paramref name="defaultValue"/> when absent.</summary>
    /// <exception cref="FormatException">The value is not a boolean.</exception>
    public bool GetBoolean(string key, bool defaultValue)
    {
        if (!_values.TryGetValue(key, out var value)) return defaultValue;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid(key, value, "true or false"),
        };
    }

    /// <summary>A string key, or <paramref name="defaultValue"/> when absent.</summary>
    /// <exception cref="FormatException">The value is not a string.</exception>
    public string GetString(string key, string defaultValue)
    {
        if (!_values.TryGetValue(key, out var value)) return defaultValue;
        return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Invalid(key, value, "a string");
    }

    /// <summary>A numeric array key (e.g. trained_betas), or null when absent.</summary>
    /// <exception cref="FormatException">The value is not an array of numbers.</exception>
    public double[]? GetDoubleArray(string key)
    {
        if (!_values.TryGetValue(key, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Array) throw Invalid(key, value, "an array of numbers");
        var result = new double[value.GetArrayLength()];
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number) throw Invalid(key, value, "an array of numbers");
            result[i++] = item.GetDouble();
        }

        return result;
    }

    /// <summary>An integer array key (e.g. UniPC's disable_corrector), or an empty array when absent.</summary>
    /// <exception cref="FormatException">The value is not an array of integers.</exception>
    public int[] GetInt32Array(string key)
    {
        var values = GetDoubleArray(key);
        if (values is null) return [];
        var result = new int[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] != Math.Floor(values[i])) throw Invalid(key, _values[key], "an array of integers");
            result[i] = (int)values[i];
        }

        return result;
    }

    /// <summary>The config as JSON (the keys that are present).</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in _values)
            {
                writer.WritePropertyName(key);
                value.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>
    /// Python's json.dumps writes float("-inf") (e.g. DPM-Solver's lambda_min_clipped) as a bare -Infinity token, which
    /// strict JSON parsers reject: quote bare Infinity/-Infinity/NaN tokens outside strings so they parse as strings.
    /// </summary>
    private static string QuoteNonFiniteNumbers(string json)
    {
        if (json.IndexOf("Infinity", StringComparison.Ordinal) < 0 && json.IndexOf("NaN", StringComparison.Ordinal) < 0) return json;
        var builder = new System.Text.StringBuilder(json.Length + 16);
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var c = json[i];
            if (inString)
            {
                builder.Append(c);
                if (c == '\\' && i + 1 < json.Length) builder.Append(json[++i]);
                else if (c == '"') inString = false;
                continue;
            }

            if (c == '"')
            {
                inString = true;
                builder.Append(c);
                continue;
            }

            var token = json.AsSpan(i).StartsWith("-Infinity") ? "-Infinity"
                : json.AsSpan(i).StartsWith("Infinity") ? "Infinity"
                : json.AsSpan(i).StartsWith("NaN") ? "NaN"
                : null;
            if (token is null)
            {
                builder.Append(c);
                continue;
            }

            builder.Append('"').Append(token).Append('"');
            i += token.Length - 1;
        }

        return builder.ToString();
    }

    private static bool TryParseNonFinite(string text, out double value)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "inf" or "+inf" or "infinity" or "+infinity":
                value = double.PositiveInfinity;
                return true;
            case "-inf" or "-infinity":
                value = double.NegativeInfinity;
                return true;
            case "nan":
                value = double.NaN;
                return true;
            default:
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }
    }

    private static FormatException Invalid(string key, JsonElement value, string expected) =>
        new($"scheduler config key '{key}' must be {expected} but was {value.GetRawText()}");
}
