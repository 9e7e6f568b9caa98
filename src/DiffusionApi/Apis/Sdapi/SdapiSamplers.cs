using DiffusionEngine.Schedulers;

namespace DiffusionApi.Apis.Sdapi;

/// <summary>
/// A1111's sampler and schedule-type names and the engine schedulers they mean. Since A1111 1.9 a sampler ("DPM++ 2M")
/// and a schedule type ("Karras") are chosen apart; older clients send the combined name ("DPM++ 2M Karras") as the
/// sampler. "Automatic" is the sampler's own default schedule (Karras for DPM++ 2M, as in A1111).
/// </summary>
public static class SdapiSamplers
{
    /// <summary>One A1111 sampler we run: its name, aliases, and our scheduler ids for the uniform and Karras schedules.</summary>
    public sealed record Sampler(string Name, string[] Aliases, string Uniform, string? Karras, bool KarrasByDefault = false);

    public static IReadOnlyList<Sampler> All { get; } =
    [
        new("DPM++ 2M", ["k_dpmpp_2m"], "dpmpp_2m", "dpmpp_2m_karras", KarrasByDefault: true),
        new("Euler a", ["k_euler_a", "k_euler_ancestral"], "euler_a", null),
        new("Euler", ["k_euler"], "euler", "euler_karras"),
        new("LMS", ["k_lms"], "lms", "lms_karras"),
        new("DDIM", ["ddim"], "ddim", null),
        new("PLMS", ["plms"], "pndm", null),
        new("UniPC", ["unipc"], "unipc", "unipc_karras"),
        new("LCM", ["k_lcm"], "lcm", null),
    ];

    /// <summary>A1111's schedule types we honour (GET /sdapi/v1/schedulers).</summary>
    public static IReadOnlyList<(string Name, string Label)> Schedules { get; } = [("automatic", "Automatic"), ("uniform", "Uniform"), ("karras", "Karras")];

    /// <summary>
    /// Our scheduler id for an A1111 <paramref name="samplerName"/> and <paramref name="schedule"/> (null or "automatic":
    /// the sampler's default), or an error naming the field at fault.
    /// </summary>
    public static bool TryResolve(string samplerName, string? schedule, out string id, out string? field, out string? error)
    {
        id = "";
        field = null;
        error = null;
        var karras = false;
        var sampler = Find(samplerName);
        if (sampler is null && samplerName.EndsWith(" Karras", StringComparison.OrdinalIgnoreCase))
        {
            // Before A1111 1.9 the schedule was part of the sampler's name.
            sampler = Find(samplerName[..^" Karras".Length]);
            karras = sampler is not null;
        }
        if (sampler is null)
        {
            field = "sampler_name";
            error = $"sampler '{Extensions.ControlCharacters.Escape(samplerName)}' is not one we run; use one of {string.Join(", ", All.Select(s => s.Name))} (GET /sdapi/v1/samplers)";
            return false;
        }
        switch (schedule?.Trim().ToLowerInvariant())
        {
            case null or "" or "automatic":
                karras |= sampler.KarrasByDefault;
                break;
            case "karras":
                karras = true;
                break;
            case "uniform":
                if (karras)
                {
                    field = "scheduler";
                    error = $"sampler '{samplerName}' names the Karras schedule but scheduler is 'uniform'";
                    return false;
                }
                break;
            default:
                field = "scheduler";
                error = $"schedule type '{Extensions.ControlCharacters.Escape(schedule)}' is not supported; use automatic, uniform or karras (GET /sdapi/v1/schedulers)";
                return false;
        }
        if (karras && sampler.Karras is null)
        {
            field = "scheduler";
            error = $"sampler '{sampler.Name}' has no Karras schedule here; use scheduler automatic or uniform";
            return false;
        }
        id = karras ? sampler.Karras! : sampler.Uniform;
        return true;
    }

    /// <summary>The A1111 sampler name for one of our scheduler ids ("dpmpp_2m_karras" → "DPM++ 2M").</summary>
    public static string SamplerNameOf(string schedulerId)
    {
        foreach (var sampler in All)
        {
            if (sampler.Uniform == schedulerId || sampler.Karras == schedulerId) return sampler.Name;
        }
        return SchedulerFactory.DisplayNameOf(schedulerId);
    }

    /// <summary>The A1111 schedule type for one of our scheduler ids: "Karras" or "Uniform".</summary>
    public static string ScheduleOf(string schedulerId) =>
        SchedulerFactory.TryResolve(schedulerId, out var info) && info.Karras ? "Karras" : "Uniform";

    private static Sampler? Find(string name)
    {
        var trimmed = name.Trim();
        foreach (var sampler in All)
        {
            if (string.Equals(sampler.Name, trimmed, StringComparison.OrdinalIgnoreCase)) return sampler;
            foreach (var alias in sampler.Aliases)
            {
                if (string.Equals(alias, trimmed, StringComparison.OrdinalIgnoreCase)) return sampler;
            }
        }
        return null;
    }
}
