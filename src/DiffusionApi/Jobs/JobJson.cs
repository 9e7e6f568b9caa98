using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffusionApi.Jobs;

/// <summary>
/// The wire form of jobs, snapshots and events between replicas (queue entries, job records, bus messages): web-style
/// camelCase names, enums as their names (a reordered enum must not change a stored value's meaning).
/// </summary>
public static class JobJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <exception cref="JsonException">The text is not a <typeparamref name="T"/>.</exception>
    public static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Options) ?? throw new JsonException($"expected a {typeof(T).Name} but the JSON was null");
}
