using System.Globalization;
using StackExchange.Redis;

namespace DiffusionApi.Jobs.Redis;

/// <summary>Reads a job hash (see <see cref="RedisJobScripts"/>) into a <see cref="JobSnapshot"/>.</summary>
internal static class RedisJobRecord
{
    public static JobSnapshot Parse(HashEntry[] fields) => Parse(fields.ToDictionary(f => f.Name.ToString(), f => f.Value.ToString(), StringComparer.Ordinal));

    /// <summary>From a flat field, value, field, value… list (HGETALL as a script returns it), starting at <paramref name="offset"/>.</summary>
    public static JobSnapshot Parse(RedisResult[] flat, int offset)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = offset; i + 1 < flat.Length; i += 2) fields[flat[i].ToString()] = flat[i + 1].ToString();
        return Parse(fields);
    }

    private static JobSnapshot Parse(Dictionary<string, string> f)
    {
        var owner = f.GetValueOrDefault("owner");
        var images = f.GetValueOrDefault("images");
        var failure = f.GetValueOrDefault("failure");
        var finished = f.GetValueOrDefault("finished");
        return new JobSnapshot(
            JobJson.Deserialize<JobDescriptor>(f["job"]),
            Enum.Parse<JobState>(f["state"]),
            Int(f, "step"),
            Int(f, "total"),
            f.GetValueOrDefault("cancel") == "1",
            string.IsNullOrEmpty(owner) ? null : owner,
            Int(f, "attempt"),
            string.IsNullOrEmpty(images) ? null : JobJson.Deserialize<JobImageRef[]>(images),
            string.IsNullOrEmpty(failure) ? null : JobJson.Deserialize<JobFailure>(failure),
            string.IsNullOrEmpty(finished) ? null : DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(finished, CultureInfo.InvariantCulture)));
    }

    private static int Int(Dictionary<string, string> f, string name) =>
        f.TryGetValue(name, out var text) && text.Length > 0 ? int.Parse(text, CultureInfo.InvariantCulture) : 0;
}
