namespace DiffusionEngine.Runtime;

/// <summary>
/// How ONNX Runtime sessions use the CPU (beside the thread count, <c>PipelineOptions.IntraOpThreads</c>): spinning,
/// memory planning and how the UNet is called. Defaults are the
/// settings measured best for SD's fixed-shape calls (BENCHMARKS.md, "Session tuning"). Every session of the process
/// runs in ONNX Runtime's one process-wide environment (<c>OrtEnv.Instance()</c>).
/// </summary>
public sealed record SessionTuning
{
    /// <summary>Let idle intra-op workers spin (session.intra_op.allow_spinning); off trades a little latency for CPU left to others.</summary>
    public bool AllowSpinning { get; init; } = true;

    /// <summary>
    /// Plan every intermediate buffer once from the first run's shapes (enable_mem_pattern). Off by default: on the SD 1.5
    /// UNet at 512² (CPU) the plan's one big block cost 2.2 GB of peak memory (7.7 → 5.5 GB) and up to 2.5 % per call
    /// (up to 12 % more CPU time) against allocating from the arena as it goes (BENCHMARKS.md, "Session tuning"); SD's shapes are fixed per
    /// batch/size, so the arena reuses its blocks from step to step either way.
    /// </summary>
    public bool MemoryPattern { get; init; }

    /// <summary>Serve CPU allocations from ONNX Runtime's arena (enable_cpu_mem_arena) instead of the system allocator.</summary>
    public bool CpuArena { get; init; } = true;

    /// <summary>Bind the UNet's inputs and outputs once per generation (I/O binding) rather than passing them to each Run.</summary>
    public bool IoBinding { get; init; } = true;

    /// <summary>
    /// Write ONNX Runtime's per-node profile (a JSON trace: every kernel's time and tensor shapes) to a file whose path
    /// starts with this prefix; null (the default) = off. For benchmarks (<c>bench-unet --profile</c>): it adds a
    /// timestamp per node to every run and the file grows with every call.
    /// </summary>
    public string? ProfilePrefix { get; init; }

    /// <summary>
    /// Physical cores of this machine (Linux: distinct (physical id, core id) pairs in /proc/cpuinfo), else the logical
    /// processor count. This is the intra-op default ONNX Runtime itself documents.
    /// </summary>
    public static int PhysicalCores { get; } = CountPhysicalCores();

    /// <summary>
    /// An intra-op thread count with 0 resolved to <see cref="PhysicalCores"/>. (On an oversubscribed machine — more
    /// runnable threads than cores, e.g. shared CI — 1 thread can be about twice as fast: ORT's workers spin while
    /// waiting and compete with everything else for the cores; see BENCHMARKS.md.)
    /// </summary>
    public static int ResolveThreads(int intraOpThreads) => intraOpThreads > 0 ? intraOpThreads : PhysicalCores;

    private static int CountPhysicalCores()
    {
        try
        {
            if (!File.Exists("/proc/cpuinfo")) return Environment.ProcessorCount;
            var cores = new HashSet<(string, string)>();
            string physical = "0", core = "";
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                var colon = line.IndexOf(':');
                if (colon < 0)
                {
                    if (core.Length > 0) cores.Add((physical, core));
                    physical = "0";
                    core = "";
                    continue;
                }
                var key = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim();
                if (key == "physical id") physical = value;
                else if (key == "core id") core = value;
            }
            if (core.Length > 0) cores.Add((physical, core));
            return cores.Count > 0 ? Math.Min(cores.Count, Environment.ProcessorCount) : Environment.ProcessorCount;
        }
        catch (IOException)
        {
            return Environment.ProcessorCount;
        }
    }
}
