using System.Diagnostics.CodeAnalysis;

namespace DiffusionEngine.Schedulers;

/// <summary>
/// Creates schedulers by name. A name is a short id ("euler_a"; a "_karras" suffix turns Karras sigmas on, e.g.
/// "dpmpp_2m_karras"), an A1111 display name ("Euler a", "DPM++ 2M Karras", "PLMS") or a diffusers class name
/// ("EulerAncestralDiscreteScheduler"), matched case-insensitively. The model's scheduler_config.json supplies every
/// other setting; keys it lacks take the chosen class's defaults, as diffusers' <c>from_config</c> does.
/// </summary>
public static class SchedulerFactory
{
    private const string KarrasSuffix = "_karras";
    private const string FlaxPrefix = "Flax";

    /// <summary>Every scheduler choice, in the order a UI should list them.</summary>
    public static IReadOnlyList<SchedulerInfo> All { get; } = Array.AsReadOnly(new SchedulerInfo[]
    {
        new("ddim", "DDIM", DdimScheduler.ClassName, false),
        new("pndm", "PLMS", PndmScheduler.ClassName, false),
        new("euler", "Euler", EulerDiscreteScheduler.ClassName, false),
        new("euler_karras", "Euler Karras", EulerDiscreteScheduler.ClassName, true),
        new("euler_a", "Euler a", EulerAncestralDiscreteScheduler.ClassName, false),
        new("lms", "LMS", LmsDiscreteScheduler.ClassName, false),
        new("lms_karras", "LMS Karras", LmsDiscreteScheduler.ClassName, true),
        new("dpmpp_2m", "DPM++ 2M", DpmSolverMultistepScheduler.ClassName, false),
        new("dpmpp_2m_karras", "DPM++ 2M Karras", DpmSolverMultistepScheduler.ClassName, true),
        new("unipc", "UniPC", UniPcMultistepScheduler.ClassName, false),
        new("unipc_karras", "UniPC Karras", UniPcMultistepScheduler.ClassName, true),
        new("lcm", "LCM", LcmScheduler.ClassName, false),
    });

    /// <summary>Finds the scheduler a name refers to (id, display name or diffusers class name, case-insensitive).</summary>
    public static bool TryResolve(string name, [MaybeNullWhen(false)] out SchedulerInfo info)
    {
        info = null;
        if (string.IsNullOrWhiteSpace(name)) return false;
        var trimmed = name.Trim();
        foreach (var candidate in All)
        {
            if (Matches(candidate.Id, trimmed) || Matches(candidate.DisplayName, trimmed) || (!candidate.Karras && Matches(candidate.ClassName, trimmed)))
            {
                info = candidate;
                return true;
            }
        }

        // "<id or class name>_karras": the Karras variant of a scheduler that has one.
        if (trimmed.EndsWith(KarrasSuffix, StringComparison.OrdinalIgnoreCase)
            && TryResolve(trimmed[..^KarrasSuffix.Length], out var baseInfo) && !baseInfo.Karras)
        {
            foreach (var candidate in All)
            {
                if (candidate.Karras && candidate.ClassName == baseInfo.ClassName)
                {
                    info = candidate;
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// The A1111 display name ("Euler a", "DPM++ 2M Karras") of the scheduler <paramref name="name"/> refers to, or
    /// <paramref name="name"/> itself when it refers to none (for infotext and messages, which must not throw).
    /// </summary>
    public static string DisplayNameOf(string name) => TryResolve(name, out var info) ? info.DisplayName : name;

    /// <summary>
    /// Creates the scheduler <paramref name="name"/> refers to, configured from <paramref name="config"/>
    /// (with use_karras_sigmas forced on for a Karras choice). The caller owns the new instance; it serves one generation.
    /// </summary>
    /// <exception cref="ArgumentException">The name is unknown (the message lists the accepted names), or the config has a value the scheduler does not support.</exception>
    public static IScheduler Create(string name, SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (!TryResolve(name, out var info))
        {
            throw new ArgumentException($"unknown scheduler '{name}'; accepted: {AcceptedNames()}", nameof(name));
        }

        return Create(info, config);
    }

    /// <summary>
    /// Creates the scheduler the config itself names (<c>_class_name</c>, e.g. "PNDMScheduler" for SD 1.5): the
    /// pipeline's default when a request names none. A "Flax" prefix (early SD configs) maps to the PyTorch class.
    /// </summary>
    /// <exception cref="ArgumentException">The config has no _class_name, or names a scheduler that is not implemented.</exception>
    public static IScheduler CreateDefault(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var className = config.ClassName
            ?? throw new ArgumentException("scheduler config has no _class_name; name a scheduler explicitly", nameof(config));
        return Create(WithoutFlaxPrefix(className), config);
    }

    /// <summary>
    /// The PyTorch class name for a config's <c>_class_name</c>: early SD configs name the Flax class
    /// ("FlaxPNDMScheduler"), whose schedule is the PyTorch class's.
    /// </summary>
    internal static string WithoutFlaxPrefix(string className) =>
        className.StartsWith(FlaxPrefix, StringComparison.Ordinal) ? className[FlaxPrefix.Length..] : className;

    /// <summary>Creates the scheduler of <paramref name="info"/>, configured from <paramref name="config"/>.</summary>
    /// <exception cref="ArgumentException">The config has a value the scheduler does not support.</exception>
    public static IScheduler Create(SchedulerInfo info, SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(config);
        if (info.Karras) config = config.With("use_karras_sigmas", true);
        return info.ClassName switch
        {
            DdimScheduler.ClassName => new DdimScheduler(config),
            PndmScheduler.ClassName => new PndmScheduler(config),
            EulerDiscreteScheduler.ClassName => new EulerDiscreteScheduler(config),
            EulerAncestralDiscreteScheduler.ClassName => new EulerAncestralDiscreteScheduler(config),
            LmsDiscreteScheduler.ClassName => new LmsDiscreteScheduler(config),
            DpmSolverMultistepScheduler.ClassName => new DpmSolverMultistepScheduler(config),
            UniPcMultistepScheduler.ClassName => new UniPcMultistepScheduler(config),
            LcmScheduler.ClassName => new LcmScheduler(config),
            _ => throw new ArgumentException($"scheduler class '{info.ClassName}' is not implemented; accepted: {AcceptedNames()}", nameof(info)),
        };
    }

    /// <summary>The names <see cref="Create(string, SchedulerConfig)"/> accepts, for error messages and help text.</summary>
    public static string AcceptedNames()
    {
        var ids = new List<string>();
        var displayNames = new List<string>();
        var classNames = new List<string>();
        foreach (var info in All)
        {
            ids.Add(info.Id);
            displayNames.Add($"\"{info.DisplayName}\"");
            if (!classNames.Contains(info.ClassName)) classNames.Add(info.ClassName);
        }

        return $"{string.Join(", ", ids)}; {string.Join(", ", displayNames)}; {string.Join(", ", classNames)}";
    }

    private static bool Matches(string candidate, string name) => string.Equals(candidate, name, StringComparison.OrdinalIgnoreCase);
}
