namespace DiffusionEngine.Schedulers;

/// <summary>
/// One scheduler choice the engine offers: <paramref name="Id"/> is the stable API name ("euler_a", "dpmpp_2m_karras"),
/// <paramref name="DisplayName"/> the name A1111 users know ("Euler a", "DPM++ 2M Karras"), <paramref name="ClassName"/>
/// the diffusers class it implements, and <paramref name="Karras"/> whether it forces Karras sigmas on.
/// </summary>
public sealed record SchedulerInfo(string Id, string DisplayName, string ClassName, bool Karras);
